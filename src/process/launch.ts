// What starting a job gives the runner, however it was started (a supervisor process of its own, or a fork
// of a warm job host): its process group, its output streams and how it ended.
import type { Readable } from 'node:stream';

export interface LaunchSpec {
  /** Absolute path, or a bare command name looked up on PATH. */
  command: string;
  args: string[];
  cwd: string;
  /** The job's whole environment (nothing else is inherited). */
  env: Record<string, string>;
  /** When the lifeline is cut: SIGTERM to the group, this long, then SIGKILL. */
  killGraceMs: number;
}

export interface JobExit {
  exitCode?: number;
  signal?: string;
}

export interface LaunchedJob {
  /** The job's process group: its leader's pid. Signal it with signalGroup to stop the whole tree. */
  pid: number | undefined;
  stdout: Readable;
  stderr: Readable;
  /** How the group's leader ended. Whatever is left of the group is killed by then. */
  ended: Promise<JobExit>;
  /** How the job was started, for logs and the bench: `supervisor` or `host` (`warm` when run in the host's interpreter). */
  via: 'supervisor' | 'host' | 'warm';
}
