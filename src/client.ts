// `hea`: the command line of home-energy-ai, one module per command under src/cli/. The Temporal SDK and
// fastify are imported when a command needs them, so `--help` and usage errors answer at once.
import { Command, CommanderError, Option } from 'commander';
import { buildApiCommand } from './cli/api.js';
import { buildTrainMetersCommand } from './cli/trainMeters.js';
import { buildAccuracyCommand } from './cli/accuracy.js';
import { buildFreshnessCommand } from './cli/freshness.js';
import { buildHealthCommand } from './cli/health.js';
import { buildJobCommand } from './cli/job.js';
import { buildRunCommand } from './cli/run.js';
import { schedulesCommand } from './cli/schedules.js';
import { buildDevCommand, buildStartCommand } from './cli/serve.js';
import { buildWorkerCommand } from './cli/worker.js';
import { EXIT_USAGE, UsageProblem, usageError } from './cli/withApp.js';

export function buildProgram(): Command {
  const program = new Command('hea')
    .description('home-energy-ai: a home energy data-and-ML pipeline on Temporal')
    .option('-c, --config <file>', 'config file (default: config/hea.yaml, or HEA_CONFIG)')
    .showHelpAfterError()
    .exitOverride();
  const configFile = () => program.opts<{ config?: string }>().config;
  // These take the program's settings (a parse problem is a usage error, help after it); the others set their own.
  const inherit = (cmd: Command) => program.addCommand(cmd.copyInheritedSettings(program));

  inherit(buildStartCommand(configFile));
  inherit(buildDevCommand(configFile));
  program.addCommand(buildWorkerCommand(configFile));
  inherit(buildRunCommand(configFile));
  inherit(buildJobCommand(configFile));
  inherit(buildFreshnessCommand(configFile));
  program.addCommand(buildAccuracyCommand(configFile));
  program.addCommand(buildTrainMetersCommand(configFile));
  program.addCommand(buildApiCommand(configFile));
  program.addCommand(schedulesCommand(configFile));
  inherit(buildHealthCommand(configFile));
  program.addOption(new Option('--version').hideHelp());
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // The Temporal runtime keeps the event loop alive; a finished command is finished (with the exit
    // code it set, if any).
    process.exit(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof UsageProblem) usageError(err.message);
    if (err instanceof CommanderError) {
      // Help and version are not errors; every other parse problem is a usage error.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    process.stderr.write(`hea: ${err instanceof Error ? err.message : String(err)}\n`);
    const { isDebug } = await import('./logging.js'); // pino: loaded when needed
    if (isDebug() && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  }
}
