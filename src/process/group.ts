// Process groups: how the runner stops a job with everything it started. No side effects on import: the
// exit hook that kills live groups is installed by the first group tracked.

/** Sends `signal` to the process group led by `pid`; false when the group is gone already. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone already
  }
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

/**
 * Remembers a running job's group, so it is killed if this process exits while the job runs. The job's
 * lifeline covers the case where this process dies too suddenly for the hook to run (SIGKILL, OOM).
 */
export function trackGroup(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const group of liveGroups) signalGroup(group, 'SIGKILL');
    });
  }
  liveGroups.add(pid);
}

/** The group has ended (and been swept): forget it. */
export function untrackGroup(pid: number): void {
  liveGroups.delete(pid);
}
