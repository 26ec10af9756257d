// `hea api` (the meter training API alone, for a container next to the workers) and `hea train-meters`
// (the bulk training from the command line: the same workflow as POST /trainmodel/bulk).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { meterIdSchema } from './schemas.js';
import { bulkTrainingStateQueryName, bulkWorkflowId, onMeterTaskQueue, type BulkTrainingInput, type BulkTrainingState, type MeterRef } from './tasks.js';

export interface ParsedMeters {
  meters: MeterRef[];
  problems: string[];
}

/** `type:id` or a bare id (of `defaultType`), from arguments and/or a file (one per line, # comments). */
export function parseMeters(specs: string[], defaultType: string, meterTypes: readonly string[]): ParsedMeters {
  const meters: MeterRef[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    // type:id, or a bare id of the default type; only the first ':' separates (the id is validated below).
    const colon = spec.indexOf(':');
    const [meterType, meterId] = colon >= 0 ? [spec.slice(0, colon), spec.slice(colon + 1)] : [defaultType, spec];
    if (!meterTypes.includes(meterType)) {
      problems.push(`${spec}: meter type must be one of ${meterTypes.join(', ')}`);
      continue;
    }
    const ok = meterIdSchema.safeParse(meterId);
    if (!ok.success) {
      problems.push(`${spec}: ${ok.error.issues.map((i) => i.message).join('; ')}`);
      continue;
    }
    const key = `${meterType}:${meterId}`;
    if (!seen.has(key)) meters.push({ meterType, meterId });
    seen.add(key);
  }
  return { meters, problems };
}

function readSpecs(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

export function buildTrainMetersCommand(configFile: () => string | undefined): Command {
  return new Command('train-meters')
    .description('train many meters\' models with bounded concurrency (as POST /trainmodel/bulk) and print each outcome')
    .argument('[meters...]', 'meters as type:id, or ids of --type')
    .option('-t, --type <type>', 'meter type of bare ids', 'electricity')
    .option('-f, --file <file>', 'a file of meters, one per line')
    .addOption(new Option('-j, --concurrency <n>', 'trainings at once (default: api.bulkConcurrency)').argParser((v) => Number.parseInt(v, 10)))
    .option('--json', 'print the final state as JSON')
    .action(async (args: string[], opts: { type: string; file?: string; concurrency?: number; json?: boolean }) => {
      const { openApp } = await import('../app.js');
      const app = await openApp({ configFile: configFile(), worker: 'if-none' });
      let code = 1;
      try {
        const specs = [...args, ...(opts.file ? readSpecs(opts.file) : [])];
        const { meters, problems } = parseMeters(specs, opts.type, app.config.api.meterTypes);
        const concurrency = opts.concurrency ?? app.config.api.bulkConcurrency;
        if (problems.length || meters.length === 0 || !(concurrency >= 1 && concurrency <= 64)) {
          process.stderr.write(`hea train-meters: ${[...problems, ...(meters.length ? [] : ['no meters given']), ...(concurrency >= 1 && concurrency <= 64 ? [] : ['--concurrency must be 1-64'])].join('\n')}\n`);
          code = 2;
          return;
        }
        const bulkId = randomUUID();
        const input: BulkTrainingInput = { bulkId, meters, concurrency };
        const handle = await app.client.workflow.start('meterModelTrainingBulk', {
          taskQueue: app.config.temporal.meterTaskQueue,
          workflowId: bulkWorkflowId(bulkId),
          args: [input],
          staticSummary: `bulk training of ${meters.length} meters (hea train-meters)`,
        });
        const started = Date.now();
        app.logger.info({ bulkId, meters: meters.length, concurrency }, 'bulk training started');
        let last = '';
        const timer = setInterval(() => {
          void handle
            .query<BulkTrainingState>(bulkTrainingStateQueryName)
            .then((s) => {
              const line = `${s.counts.SUCCESS} ok, ${s.counts.FAILED} failed, ${s.counts.RUNNING} running, ${s.counts.QUEUED + s.counts.WAITING} waiting`;
              if (line !== last) process.stderr.write(`  ${line}\n`);
              last = line;
            })
            .catch(() => undefined);
        }, 1_000);
        const state = (await handle.result().finally(() => clearInterval(timer))) as BulkTrainingState;
        const minutes = (Date.now() - started) / 60_000;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
        } else {
          for (const item of state.items) {
            const what = item.status === 'SUCCESS' ? `MAE ${item.mae} (${item.rmae_yesterday} x same-time-yesterday) ${item.model_path}` : `${item.error?.type}: ${item.error?.message}`;
            process.stdout.write(`${item.status.padEnd(8)} ${`${item.meter_type}/${item.meter_id}`.padEnd(36)} ${what}\n`);
          }
          process.stdout.write(`${state.counts.SUCCESS}/${state.total} trained in ${(minutes * 60).toFixed(1)} s: ${(state.counts.SUCCESS / Math.max(minutes, 1e-9)).toFixed(1)} meters per minute\n`);
        }
        code = state.counts.FAILED === 0 ? 0 : 1;
      } finally {
        await app.close();
        process.exitCode = code;
      }
    });
}

/** `hea api`: the API without a worker (workers run elsewhere: `hea worker`, or `hea start`). */
export function buildApiCommand(configFile: () => string | undefined): Command {
  return new Command('api')
    .description('the meter training HTTP API alone (no worker); set TEMPORAL_ADDRESS for a real cluster')
    .action(async () => {
      const [{ openApp }, { startApi }] = await Promise.all([import('../app.js'), import('./server.js')]);
      const app = await openApp({ configFile: configFile(), worker: 'never' });
      const api = await startApi(onMeterTaskQueue(app));
      // Stop taking requests first, then close the Temporal connection.
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          app.logger.info({ signal }, 'shutting down');
          void api.close().finally(() => void app.close().then(resolve));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      // The Temporal runtime's native threads can keep the loop alive after everything is closed.
      process.exit(0);
    });
}
