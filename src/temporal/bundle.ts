// The workflow bundle, built once per source version and kept under var/: a worker that loads a prebuilt
// bundle never loads webpack, which would otherwise stay in its memory for good (about 100 MB of the idle
// system). The build runs in a child process (`node --import tsx src/temporal/bundle.ts <out>`).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bundleWorkflowCode, type WorkflowBundle, type WorkflowBundleOption } from '@temporalio/worker';
import { TemporalPinoLogger, isDebug, type Logger } from '../logging.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const SRC = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/**
 * Bundles the workflows in this process. Sources are TypeScript with NodeNext-style `.js` import
 * specifiers, so webpack is told that `./x.js` may be `./x.ts`.
 */
export function bundleWorkflows(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    webpackConfigHook: (cfg) => ({
      ...cfg,
      resolve: { ...cfg.resolve, extensionAlias: { '.js': ['.ts', '.js'] } },
    }),
    // webpack's statistics are noise unless something is wrong.
    logger: logger ? new TemporalPinoLogger(logger.child({ component: 'bundler' }, { level: isDebug() ? 'debug' : 'warn' })) : undefined,
  });
}

/** A digest of every source file the bundle could include (all of src/) and the SDK's version. */
function sourceDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) hash.update(path).update(readFileSync(path));
    }
  };
  walk(SRC);
  const sdk = JSON.parse(readFileSync(fileURLToPath(new URL('../../node_modules/@temporalio/workflow/package.json', import.meta.url)), 'utf8')) as { version: string };
  return hash.update(sdk.version).digest('hex').slice(0, 16);
}

/**
 * The bundle from `cacheDir` when this source version was built before, else built in a child process
 * and kept there. Falls back to bundling in this process if the child fails.
 */
export async function cachedWorkflowBundle(cacheDir: string, logger: Logger): Promise<WorkflowBundleOption> {
  const codePath = join(cacheDir, `workflow-bundle-${sourceDigest()}.js`);
  if (existsSync(codePath)) return { codePath };
  const started = Date.now();
  try {
    mkdirSync(cacheDir, { recursive: true });
    await promisify(execFile)(process.execPath, ['--import', 'tsx', SELF, codePath], { maxBuffer: 16 * 1024 * 1024 });
    logger.info({ codePath, ms: Date.now() - started }, 'workflow bundle built');
    for (const old of readdirSync(cacheDir)) {
      if (/^workflow-bundle-[0-9a-f]+\.js$/.test(old) && join(cacheDir, old) !== codePath) rmSync(join(cacheDir, old), { force: true });
    }
    return { codePath };
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'the workflow bundle could not be built in a child process; bundling here');
    return bundleWorkflows(logger);
  }
}

if (process.argv[1] === SELF && process.argv[2]) {
  const out = process.argv[2];
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    webpackConfigHook: (cfg) => ({ ...cfg, resolve: { ...cfg.resolve, extensionAlias: { '.js': ['.ts', '.js'] } } }),
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.tmp`, code);
  renameSync(`${out}.tmp`, out);
  process.exit(0);
}
