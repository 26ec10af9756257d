// What every `hea` command shares: the config file option, an App opened (lazily: the Temporal SDK loads
// only when a command needs it, so `--help` answers at once) and closed, and one way to exit.
import type { App } from '../app.js';

/** The program's `--config` value, read when a command runs. */
export type ConfigFile = () => string | undefined;

/** The exit code of a command line misuse (bad flag, unknown flow, bad parameter). */
export const EXIT_USAGE = 2;

/** A usage problem found while a command runs (a bad date, an unknown schedule): `main` exits 2 with it. */
export class UsageProblem extends Error {}

/** Writes `hea: <message>` and exits 2. */
export function usageError(message: string): never {
  process.stderr.write(`hea: ${message}\n`);
  process.exit(EXIT_USAGE);
}

export type OpenOptions = Omit<Parameters<typeof import('../app.js').openApp>[0], 'configFile'>;

/** Opens the App (Temporal, maybe the embedded server and a worker), loading its modules on first use. */
export async function openApp(configFile: ConfigFile, options: OpenOptions): Promise<App> {
  const { openApp: open } = await import('../app.js');
  return open({ configFile: configFile(), ...options });
}

/**
 * Runs a command's body on an open App and closes it whatever happens; then exits with the body's
 * verdict (true: 0, false: 1). A thrown error reaches `main`, which prints it and exits 1.
 */
export async function withApp(configFile: ConfigFile, options: OpenOptions, body: (app: App) => Promise<boolean>): Promise<never> {
  const app = await openApp(configFile, options);
  let ok = false;
  try {
    ok = await body(app);
  } finally {
    await app.close();
  }
  process.exit(ok ? 0 : 1);
}
