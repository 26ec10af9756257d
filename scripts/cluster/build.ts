// The Temporal server and its SQL schema tool, built from the server's Go module at a pinned version and
// cached under var/cache/ (ignored by git): the first start builds them (minutes), later starts reuse them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The server version everything here is tested with; docker-compose.yml uses the same. */
export const TEMPORAL_SERVER_VERSION = '1.32.2';
/** The Go toolchain the module builds with (the Go module proxy serves it; any go >= 1.21 fetches it). */
export const GO_TOOLCHAIN = 'go1.27.3';
const MODULE = 'go.temporal.io/server';

export interface TemporalBinaries {
  server: string;
  sqlTool: string;
  /** The module's own server config template (config/docker.yaml: every setting from the environment). */
  configTemplate: string;
  /** Seconds the build took, when this call built them. */
  builtSeconds?: number;
}

/** `go` on PATH, else the official tarball's place. */
function goCommand(): string {
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    if (spawnSync(candidate, ['version'], { encoding: 'utf8' }).status === 0) return candidate;
  }
  throw new Error('the Temporal server is built from its Go module: install Go 1.21 or newer (https://go.dev/dl/ or apt-get install golang-go)');
}

export function binariesDir(root: string): string {
  return join(root, 'var', 'cache', `temporal-server-v${TEMPORAL_SERVER_VERSION}`);
}

/** The cached binaries; builds them with `go install` when one is missing. */
export function ensureTemporalBinaries(root: string, log: (msg: string) => void): TemporalBinaries {
  const dir = binariesDir(root);
  const binaries = { server: join(dir, 'server'), sqlTool: join(dir, 'sql'), configTemplate: join(dir, 'docker.yaml') };
  if (existsSync(binaries.server) && existsSync(binaries.sqlTool) && existsSync(binaries.configTemplate)) return binaries;
  mkdirSync(dir, { recursive: true });
  const go = goCommand();
  if (!existsSync(binaries.configTemplate)) {
    const mod = spawnSync(go, ['mod', 'download', '-json', `${MODULE}@v${TEMPORAL_SERVER_VERSION}`], {
      encoding: 'utf8',
      env: { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN },
    });
    if (mod.status !== 0) throw new Error(`go mod download ${MODULE}@v${TEMPORAL_SERVER_VERSION} failed: ${mod.stderr}`);
    copyFileSync(join((JSON.parse(mod.stdout) as { Dir: string }).Dir, 'config', 'docker.yaml'), binaries.configTemplate);
  }
  if (existsSync(binaries.server) && existsSync(binaries.sqlTool)) return binaries;
  const packages = [`${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `${MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`];
  log(`building the Temporal server v${TEMPORAL_SERVER_VERSION} from its Go module (${GO_TOOLCHAIN}; several minutes, once): go install ${packages.join(' ')}`);
  const started = Date.now();
  const res = spawnSync(go, ['install', ...packages], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN, GOBIN: dir },
  });
  if (res.status !== 0) throw new Error(`go install failed (${res.status ?? res.signal}): see the output above`);
  const builtSeconds = Math.round((Date.now() - started) / 1000);
  log(`built in ${builtSeconds} s: ${dir}`);
  return { ...binaries, builtSeconds };
}
