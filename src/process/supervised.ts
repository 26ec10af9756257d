// The cold path: each job under its own supervisor process (bin/job-supervisor.js), which leads the job's
// process group and holds the lifeline (its stdin) to this process.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { signalGroup } from './group.js';
import type { LaunchSpec, LaunchedJob } from './launch.js';

const SUPERVISOR = fileURLToPath(new URL('../../bin/job-supervisor.js', import.meta.url));

export function launchSupervised(spec: LaunchSpec): LaunchedJob {
  const child = execa(process.execPath, [SUPERVISOR, String(spec.killGraceMs), spec.command, ...spec.args], {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: false,
    detached: true, // a new process group, so the job's own children can be killed with it
    cleanup: false, // execa's exit hook only kills the direct child; trackGroup does better
    stdin: 'pipe', // the lifeline: never written to, closed when this process dies
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    encoding: 'buffer',
  });
  const pid = child.pid;
  // execa resolves once stdout and stderr close, not when the process exits: a grandchild the job left
  // behind would hold the pipes open and hang a job that already succeeded. When the supervisor exits,
  // whatever is left of the group goes, which also closes the pipes.
  child.once('exit', () => {
    if (pid !== undefined) signalGroup(pid, 'SIGKILL');
  });
  return {
    pid,
    stdout: child.stdout!,
    stderr: child.stderr!,
    ended: child.then((r) => ({ exitCode: r.exitCode, signal: r.signal })),
    via: 'supervisor',
  };
}
