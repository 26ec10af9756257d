// `hea freshness`: every dataset against its maximum age now, as a table (exit 0 when all are fresh).
import { Command } from 'commander';
import { runFlow } from './run.js';
import { formatTable } from './table.js';
import { withApp, type ConfigFile } from './withApp.js';

export function buildFreshnessCommand(configFile: ConfigFile): Command {
  return new Command('freshness')
    .description('check every dataset against its maximum age now, and print a table (no remediation unless --remediate)')
    .option('--remediate', 'start the fetch flow of stale datasets')
    .option('--json', 'as JSON')
    .action(async (opts: { remediate?: boolean; json?: boolean }) => {
      await withApp(configFile, { worker: 'if-none' }, async (app) => {
        const report = await runFlow(app, 'freshness', { remediate: Boolean(opts.remediate), alert: false }, { follow: false, idSuffix: 'cli' });
        const table = report.tables?.find((t) => t.title === 'Datasets');
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(table?.rows.map((r) => Object.fromEntries(table.columns.map((c, i) => [c, r[i]]))) ?? [], null, 2)}\n`);
        } else if (table) {
          process.stdout.write(`${formatTable(table.columns, table.rows)}\n`);
        }
        // Not fresh counts, unknown included: the check could not vouch for it.
        const notFresh = (report.datasets ?? []).filter((v) => !v.is_fresh).length;
        return report.status === 'success' && notFresh === 0;
      });
    });
}
