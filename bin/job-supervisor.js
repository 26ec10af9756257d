#!/usr/bin/env node
// Runs one job as the leader of its own process group and makes sure the whole group dies with it.
//
//   node job-supervisor.js <graceMs> <command> [args...]
//
// The runner starts this script detached (a new session and process group), with stdin as a pipe it
// never writes to: the "lifeline". If the runner dies, even by SIGKILL, the pipe closes, and this script
// sends SIGTERM to the group, waits <graceMs>, then SIGKILL. The runner itself stops a job by signalling
// the group; this script ignores those signals and stays to report how the job ended: same exit code, or
// death by the same signal. Plain JavaScript on purpose: it starts in tens of milliseconds.
import { spawn } from 'node:child_process';

const [graceArg, command, ...args] = process.argv.slice(2);
const graceMs = Number(graceArg);
if (!command || !Number.isFinite(graceMs)) {
  process.stderr.write('usage: job-supervisor.js <graceMs> <command> [args...]\n');
  process.exit(64);
}

const ignore = () => {};
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, ignore);

let child;
try {
  child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
} catch (err) {
  process.stderr.write(`cannot start ${command}: ${err.message}\n`);
  process.exit(127);
}

let lifelineCut = false;
function killGroup() {
  if (lifelineCut) return;
  lifelineCut = true;
  try {
    process.kill(-process.pid, 'SIGTERM');
  } catch {}
  setTimeout(() => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {}
  }, graceMs).unref();
}
process.stdin.on('end', killGroup);
process.stdin.on('close', killGroup);
process.stdin.on('error', killGroup);
process.stdin.resume();

child.on('error', (err) => {
  // ENOENT: no such command; EACCES: not executable. Shell conventions: 127 and 126.
  process.stderr.write(`cannot start ${command}: ${err.message}\n`);
  process.exit(err.code === 'ENOENT' ? 127 : 126);
});

child.on('exit', (code, signal) => {
  // The worker is gone: nothing may outlive the job, not even children that ignored SIGTERM.
  if (lifelineCut) {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {}
  }
  if (signal) {
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.removeListener(sig, ignore);
    process.kill(process.pid, signal);
    // A signal whose default action is not to terminate: fall through to an exit code.
    setTimeout(() => process.exit(128), 100);
    return;
  }
  process.exit(code ?? 1);
});
