// `npm run cluster`: the production topology on this machine, without Docker (see scripts/cluster/index.ts
// and docs/operations.md). Prints the addresses; Ctrl-C (or SIGTERM) stops every process it started, by PID,
// workers first. State and logs: var/cluster/ (wiped at the next start). --build-only: build the Temporal
// server (when not cached) and exit.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTemporalBinaries } from './cluster/build.js';
import { startCluster } from './cluster/index.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const log = (msg: string) => process.stderr.write(`[cluster] ${msg}\n`);

if (process.argv.includes('--build-only')) {
  // CI builds first, so the test's own time limits do not include a first build.
  const built = ensureTemporalBinaries(root, log);
  log(built.builtSeconds === undefined ? `cached: ${built.server}` : `built in ${built.builtSeconds} s`);
  process.exit(0);
}

const t0 = Date.now();
const cluster = await startCluster({ root, log });
const seconds = ((Date.now() - t0) / 1000).toFixed(1);
const lines = [
  `cluster up in ${seconds} s${cluster.binaries.builtSeconds !== undefined ? ` (of which the Go build ${cluster.binaries.builtSeconds} s)` : ''}`,
  `  Temporal gRPC      ${cluster.temporalAddress}   (TEMPORAL_ADDRESS=${cluster.temporalAddress} npx hea ...)`,
  `  Temporal Web UI    none here (the UI server does not build from the Go module proxy: see docs/operations.md); use .venv/bin/temporal --address ${cluster.temporalAddress}`,
  `  meter API          ${cluster.apiUrl}   (OpenAPI: ${cluster.apiUrl}/docs)`,
  `  PostgreSQL         ${cluster.postgres.host}:${cluster.postgres.port}   (user ${cluster.postgres.user}, databases temporal, temporal_visibility)`,
  ...Object.entries(cluster.metrics).map(([identity, address]) => `  metrics ${identity.padEnd(10)} http://${address}/metrics`),
  '  processes:',
  ...cluster.processes().map((p) => `    ${p.name.padEnd(16)} pid ${p.pid}   log ${p.spec.logFile}`),
  'press Ctrl-C to stop everything',
];
process.stdout.write(`${lines.join('\n')}\n`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping (workers get their shutdown grace time)`);
  void cluster.stop().then(() => {
    log('stopped');
    process.exit(0);
  });
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
// A process of the cluster that dies on its own is reported (the cluster keeps running: restart it or stop).
for (const p of cluster.processes()) {
  void p.waitExit().then(() => {
    if (!stopping) log(`${p.name} exited: see ${p.spec.logFile}`);
  });
}
