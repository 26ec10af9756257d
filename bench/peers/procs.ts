// Processes the peer bench starts: each in its own process group with its output in a log file, stopped as
// a group (SIGTERM, then SIGKILL after a grace period) and checked gone, so nothing outlives the bench.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Started {
  name: string;
  pid: number;
  logFile: string;
  /** Exit code or signal once it has exited, else undefined. */
  exited(): string | undefined;
  logTail(lines?: number): string;
}

export function startProcess(name: string, command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): Started {
  const fd = openSync(opts.logFile, 'a');
  // detached: a process group of its own, so stopping it reaches its children (Dramatiq's worker processes,
  // the training jobs they spawn) too.
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let exit: string | undefined;
  child.on('exit', (code, signal) => (exit = signal ?? String(code)));
  child.on('error', (err) => (exit = `spawn error: ${err.message}`));
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  return {
    name,
    pid: child.pid,
    logFile: opts.logFile,
    exited: () => exit,
    logTail: (lines = 15) => {
      try {
        return readFileSync(opts.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole group, SIGKILL to what is left after `graceMs`; throws if anything survives. */
export async function stopProcess(p: Started, graceMs = 10_000): Promise<void> {
  if (!groupAlive(p.pid)) return;
  try {
    process.kill(-p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(p.pid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(p.pid)) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    const hard = Date.now() + 5_000;
    while (groupAlive(p.pid) && Date.now() < hard) await sleep(50);
  }
  if (groupAlive(p.pid)) throw new Error(`${p.name} (process group ${p.pid}) is still running after SIGKILL`);
}

/** Poll `check` until it answers true (an exception counts as not yet: a server still starting); fail at
 * the deadline, or at once if `proc` exits meanwhile. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, proc?: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    const exit = proc?.exited();
    if (proc && exit !== undefined) throw new Error(`${proc.name} exited (${exit}) before ${what}:\n${proc.logTail()}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${proc ? `:\n${proc.logTail()}` : ''}`);
    await sleep(100);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** The pid and every descendant, from /proc's parent links. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

function procKb(file: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of a process tree in MB: RSS summed (what `ps` adds up; shared pages counted in each
 * process) and PSS summed (shared pages split between their sharers, so forked workers are not counted twice). */
export function treeMemoryMb(root: number): { rss: number; pss: number; processes: number } {
  const pids = processTree(root);
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    rss += procKb(`/proc/${pid}/status`, 'VmRSS');
    pss += procKb(`/proc/${pid}/smaps_rollup`, 'Pss');
  }
  return { rss: rss / 1024, pss: pss / 1024, processes: pids.length };
}
