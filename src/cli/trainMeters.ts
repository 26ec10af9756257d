// `hea train-meters`: the bulk training from the command line, through the same trainings service and
// workflow as POST /trainmodel/bulk.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { meterIdSchema } from '../api/schemas.js';
import { bulkTrainingStateQueryName, uniqueMeters, type BulkTrainingState, type MeterRef } from '../contracts/trainings.js';

export interface ParsedMeters {
  meters: MeterRef[];
  problems: string[];
}

/** `type:id` or a bare id (of `defaultType`), from arguments and/or a file (one per line, # comments). */
export function parseMeters(specs: string[], defaultType: string, meterTypes: readonly string[]): ParsedMeters {
  const meters: MeterRef[] = [];
  const problems: string[] = [];
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
    meters.push({ meterType, meterId });
  }
  return { meters: uniqueMeters(meters), problems };
}

function readSpecs(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

function progressLine(s: BulkTrainingState): string {
  return `${s.counts.SUCCESS} ok, ${s.counts.FAILED} failed, ${s.counts.RUNNING} running, ${s.counts.QUEUED + s.counts.WAITING} waiting`;
}

function printOutcome(state: BulkTrainingState, seconds: number): void {
  for (const item of state.items) {
    const what =
      item.status === 'SUCCESS' ? `MAE ${item.mae} (${item.rmae_yesterday} x same-time-yesterday) ${item.model_path}` : `${item.error?.type}: ${item.error?.message}`;
    process.stdout.write(`${item.status.padEnd(8)} ${`${item.meter_type}/${item.meter_id}`.padEnd(36)} ${what}\n`);
  }
  const minutes = seconds / 60;
  process.stdout.write(
    `${state.counts.SUCCESS}/${state.total} trained in ${seconds.toFixed(1)} s: ${(state.counts.SUCCESS / Math.max(minutes, 1e-9)).toFixed(1)} meters per minute\n`,
  );
}

export function buildTrainMetersCommand(configFile: () => string | undefined): Command {
  return (
    new Command('train-meters')
      .description("train many meters' models with bounded concurrency (as POST /trainmodel/bulk) and print each outcome")
      .argument('[meters...]', 'meters as type:id, or ids of --type')
      .option('-t, --type <type>', 'meter type of bare ids', 'electricity')
      .option('-f, --file <file>', 'a file of meters, one per line')
      .addOption(new Option('-j, --concurrency <n>', 'trainings at once (default: api.bulkConcurrency)').argParser((v) => Number.parseInt(v, 10)))
      .option('--json', 'print the final state as JSON')
      // Added with addCommand, so the program's settings are not inherited: a bad option is a usage error (exit 2).
      .exitOverride()
      .action(async (args: string[], opts: { type: string; file?: string; concurrency?: number; json?: boolean }) => {
        const [{ openApp }, { TrainingService, followBulk }] = await Promise.all([import('../app.js'), import('../api/trainings/service.js')]);
        const app = await openApp({ configFile: configFile(), worker: 'if-none' });
        let code = 1;
        try {
          const specs = [...args, ...(opts.file ? readSpecs(opts.file) : [])];
          const { meters, problems } = parseMeters(specs, opts.type, app.config.api.meterTypes);
          const concurrency = opts.concurrency ?? app.config.api.bulkConcurrency;
          const concurrencyOk = concurrency >= 1 && concurrency <= 64;
          if (problems.length || meters.length === 0 || !concurrencyOk) {
            const all = [...problems, ...(meters.length ? [] : ['no meters given']), ...(concurrencyOk ? [] : ['--concurrency must be 1-64'])];
            process.stderr.write(`hea train-meters: ${all.join('\n')}\n`);
            code = 2;
            return;
          }
          const trainings = new TrainingService({ client: app.client, taskQueue: app.config.temporal.meterTaskQueue });
          const bulk = await trainings.startBulk(meters, concurrency, `bulk training of ${meters.length} meters (hea train-meters)`);
          const started = Date.now();
          app.logger.info({ bulkId: bulk.bulkId, meters: meters.length, concurrency }, 'bulk training started');
          let last = '';
          const state = await followBulk(bulk.handle, bulkTrainingStateQueryName, (s) => {
            const line = progressLine(s);
            if (line !== last) process.stderr.write(`  ${line}\n`);
            last = line;
          });
          if (opts.json) process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
          else printOutcome(state, (Date.now() - started) / 1000);
          code = state.counts.FAILED === 0 ? 0 : 1;
        } finally {
          await app.close();
          process.exitCode = code;
        }
      })
  );
}
