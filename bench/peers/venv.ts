// The peer's Python and Redis. The venv (bench/peers/.venv, git-ignored) is made on demand from
// dramatiq/requirements.txt and remade when that file changes. It reaches the project's .venv
// site-packages through a .pth file, so the warm worker imports the same pandas/xgboost as our jobs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Debian's redis-server: installed here when missing and we are root (as .ci/run does for its servers). */
export function redisServer(): string {
  let found = findExecutable('redis-server');
  if (!found && process.getuid?.() === 0 && findExecutable('apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env });
      // The package may start a system service; the bench runs its own instance on a free port.
      execFileSync('sh', ['-c', 'service redis-server stop || systemctl stop redis-server || true'], { stdio: 'ignore' });
    } catch {
      /* reported below */
    }
    found = findExecutable('redis-server') ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
  }
  if (!found) {
    throw new Error(
      'redis-server is not installed: the Dramatiq peer needs it. On Debian/Ubuntu: `apt-get install redis-server` (the bench starts and stops its own instance; the system service is not needed)',
    );
  }
  return found;
}

function sitePackages(venv: string): string {
  const lib = join(venv, 'lib');
  const py = existsSync(lib) ? readdirSync(lib).find((d) => /^python3\.\d+$/.test(d)) : undefined;
  if (!py) throw new Error(`no lib/python3.*/ in ${venv}: is it a Python venv?`);
  return join(lib, py, 'site-packages');
}

/** The peer venv's python, made (or remade) when missing or its requirements changed. */
export function ensurePeerVenv(root: string, log: (msg: string) => void): string {
  const peerDir = join(root, 'bench', 'peers');
  const venv = join(peerDir, '.venv');
  const python = join(venv, 'bin', 'python');
  const requirements = join(peerDir, 'dramatiq', 'requirements.txt');
  const projectSite = sitePackages(join(root, '.venv'));
  const stampFile = join(venv, '.peer-stamp');
  const stamp = createHash('sha256').update(readFileSync(requirements)).update(projectSite).digest('hex');
  if (existsSync(python) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return python;

  const base = findExecutable('python3.11');
  if (!base) throw new Error('python3.11 is not on PATH: the Dramatiq peer venv is made with `python3.11 -m venv`');
  log(`making the peer venv ${venv} (pip install -r ${requirements})`);
  execFileSync(base, ['-m', 'venv', '--clear', venv], { stdio: ['ignore', 'inherit', 'inherit'] });
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements], { stdio: ['ignore', 'inherit', 'inherit'] });
  const peerSite = sitePackages(venv);
  if (peerSite.split('/').at(-2) !== projectSite.split('/').at(-2)) {
    throw new Error(`the peer venv is ${peerSite.split('/').at(-2)} but the project's .venv is ${projectSite.split('/').at(-2)}: the warm worker needs the same Python`);
  }
  // After the peer's own packages on sys.path: the job's libraries, the very files our jobs import.
  writeFileSync(join(peerSite, 'hea-project-venv.pth'), `${projectSite}\n`);
  writeFileSync(stampFile, stamp);
  return python;
}
