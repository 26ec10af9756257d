// `hea job <name>`: one job of the registry now, through Temporal, with its configured timeouts and retries.
import { Command } from 'commander';
import { awaitResult, followRun } from '../follow.js';
import { usageError, withApp, type ConfigFile } from './withApp.js';

export function buildJobCommand(configFile: ConfigFile): Command {
  return new Command('job')
    .description('run one job of the registry now, through Temporal, with its configured timeouts and retries')
    .argument('<name>', 'a job name from config (jobs:)')
    .argument('[args...]', 'extra arguments for the job')
    .option('--json', 'print the outcome as JSON')
    .action(async (name: string, args: string[], opts: { json?: boolean }) => {
      const jobs = (await import('../config/load.js')).loadConfigOrExit(configFile()).jobs;
      if (!jobs[name]) usageError(`unknown job "${name}"; jobs: ${Object.keys(jobs).join(', ')}`);
      await withApp(configFile, { worker: 'if-none' }, async (app) => {
        try {
          const handle = await app.client.workflow.start('runSingleJob', {
            taskQueue: app.target.taskQueue,
            workflowId: `job-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
            args: [{ job: name, args }],
          });
          const result = awaitResult<Awaited<ReturnType<typeof handle.result>>>(handle);
          result.catch(() => undefined); // handled below
          if (!opts.json) await followRun(handle, process.stderr, 500, result);
          const outcome = await result;
          process.stdout.write(`${JSON.stringify(opts.json ? outcome : outcome.result, null, 2)}\n`);
          return true;
        } catch (err) {
          const { summarizeFailure } = await import('../contracts/failures.js'); // the SDK: loaded when needed
          process.stderr.write(`hea: job ${name} failed: ${summarizeFailure(err).fullMessage}\n`);
          return false;
        }
      });
    });
}
