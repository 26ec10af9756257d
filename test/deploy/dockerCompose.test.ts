// No Docker engine runs here, so the compose stack is checked by reading it, against what
// `npm run test:cluster` runs for real (scripts/cluster/): the same server version built the same way, the
// same schema steps, the same server settings, the same process roles.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { GO_TOOLCHAIN, TEMPORAL_SERVER_VERSION } from '../../scripts/cluster/build.js';
import { PROCESS_ROLES, SCHEDULES_COMMAND } from '../../scripts/cluster/index.js';
import { DYNAMIC_CONFIG, SCHEMA_STEPS, serverEnvironment, sqlToolEnvironment } from '../../scripts/cluster/temporalServer.js';
import { ROOT } from '../helpers/env.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  restart?: string;
  profiles?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const { services } = compose;
const PASSWORD = '${POSTGRES_PASSWORD:-temporal}';
// bin/hea.js itself: its #! line carries the long-running process's node flags.
const hea = (args: readonly string[]) => ['bin/hea.js', ...args];

test('the Temporal server and its SQL tool are built from the Go module at the tested version and toolchain', () => {
  for (const name of ['temporal', 'temporal-schema']) {
    expect(services[name]!.build).toEqual({
      context: '.',
      dockerfile: 'docker/temporal-server.Dockerfile',
      args: { TEMPORAL_SERVER_VERSION, GO_TOOLCHAIN },
    });
  }
  const dockerfile = readFileSync(join(ROOT, 'docker', 'temporal-server.Dockerfile'), 'utf8');
  expect(dockerfile).toContain('go install go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION} go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}');
  expect(dockerfile).toContain(`ARG TEMPORAL_SERVER_VERSION=${TEMPORAL_SERVER_VERSION}`);
  expect(dockerfile).toContain(`COPY ${DYNAMIC_CONFIG} /etc/temporal/dynamicconfig.yaml`);
  expect(existsSync(join(ROOT, DYNAMIC_CONFIG))).toBe(true);
  expect(services.postgresql!.image).toBe('postgres:15');
});

test('the schema is set up with the SQL tool in the tested steps, then the server starts with the tested settings', () => {
  const schema = services['temporal-schema']!;
  const script = schema.command!.join(' ');
  for (const step of SCHEMA_STEPS) expect(script).toContain(`temporal-sql-tool --db ${step.database} ${step.args.join(' ')}`);
  const { SQL_DATABASE: _db, ...toolEnv } = sqlToolEnvironment({ host: 'postgresql', port: 5432, user: 'temporal', password: PASSWORD }, 'temporal');
  expect(schema.environment).toEqual(toolEnv);
  expect(schema.restart).toBe('no');
  expect(schema.depends_on!.postgresql!.condition).toBe('service_healthy');

  const temporal = services.temporal!;
  expect(temporal.environment).toEqual(
    serverEnvironment(
      { host: 'postgresql', port: 5432, user: 'temporal', password: PASSWORD },
      { bindOnIp: '0.0.0.0', dynamicConfig: '/etc/temporal/dynamicconfig.yaml' },
    ),
  );
  expect(temporal.depends_on!['temporal-schema']!.condition).toBe('service_completed_successfully');
  expect(temporal.ports).toContain('7233:7233');
});

test('the process roles of the cluster, with the same commands and replicas, pointed at the server', () => {
  const byRole: Record<keyof typeof PROCESS_ROLES, string> = { 'pipeline-worker': 'pipeline-worker', 'meter-worker': 'meter-worker', api: 'api' };
  for (const [role, spec] of Object.entries(PROCESS_ROLES) as [keyof typeof PROCESS_ROLES, (typeof PROCESS_ROLES)[keyof typeof PROCESS_ROLES]][]) {
    const service = services[byRole[role]]!;
    expect([role, service.command]).toEqual([role, hea(spec.hea)]);
    expect([role, service.deploy?.replicas ?? 1]).toEqual([role, spec.replicas]);
    expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(service.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default' });
    expect(service.depends_on!['temporal-namespace']!.condition).toBe('service_completed_successfully');
  }
  expect(services.schedules!.command).toEqual(hea(SCHEDULES_COMMAND));
  expect(services['temporal-namespace']!.command).toEqual(['node', '--import', 'tsx', 'scripts/cluster-namespace.ts']);
  expect(services['temporal-namespace']!.depends_on!.temporal!.condition).toBe('service_healthy');
  // Every service outside the optional profiles is one of the tested topology.
  const core = Object.entries(services)
    .filter(([, s]) => !s.profiles)
    .map(([n]) => n)
    .sort();
  expect(core).toEqual(['api', 'meter-worker', 'pipeline-worker', 'postgresql', 'schedules', 'temporal', 'temporal-namespace', 'temporal-schema']);
});

test('the API listens on all interfaces inside, published on the host loopback only; meter workers can read InfluxDB', () => {
  const api = services.api!;
  expect(api.environment).toMatchObject({ HEA_API_HOST: '0.0.0.0', HEA_API_PORT: '8000' });
  expect(api.ports).toEqual(['127.0.0.1:8000:8000']);
  expect(services.influxdb!.image).toMatch(/^influxdb:1\./);
  expect(services['meter-worker']!.environment!.HEA_INFLUX_URL).toBe('http://influxdb:8086');
});

test('every long-running service has a health check; one-shots do not restart', () => {
  for (const [name, service] of Object.entries(services)) {
    if (service.restart === 'no') continue;
    expect([name, Array.isArray(service.healthcheck?.test)]).toEqual([name, true]);
  }
  expect(services['pipeline-worker']!.healthcheck!.test).toEqual(['CMD', 'node', 'bin/hea.js', 'health']);
  expect(services['meter-worker']!.healthcheck!.test).toEqual(['CMD', 'env', 'HEA_TASK_QUEUE=home-energy-meters', 'node', 'bin/hea.js', 'health']);
});

test("the workers' image is built from the Dockerfile, with persistent data, and copies what exists", () => {
  for (const name of ['pipeline-worker', 'meter-worker']) {
    const worker = services[name]!;
    expect(worker.volumes).toEqual(expect.arrayContaining(['energy-data:/app/data', 'energy-models:/app/models']));
    for (const volume of worker.volumes!) expect(Object.keys(compose.volumes)).toContain(volume.split(':')[0]);
  }
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/pip install .*-r jobs\/requirements\.txt/);
  for (const copied of dockerfile.matchAll(/^COPY (.+)$/gm)) {
    const sources = copied[1]!.trim().split(/\s+/).slice(0, -1); // the last word is the destination
    for (const path of sources) expect([path, existsSync(join(ROOT, path))]).toEqual([path, true]);
  }
});

test('long-running processes start as bin/hea.js, whose #! line gives node the idle-memory heap flag', () => {
  // The flag only works on node's command line, so `node bin/hea.js` would lose it.
  const shebang = readFileSync(join(ROOT, 'bin', 'hea.js'), 'utf8').split('\n')[0];
  expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node --max-semi-space-size=\d+$/);
  expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain('CMD ["bin/hea.js", "worker", "--role", "all"]');
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  expect([scripts.start, scripts.worker]).toEqual(['bin/hea.js start', 'bin/hea.js worker']);
  for (const name of ['pipeline-worker', 'meter-worker', 'api']) expect(services[name]!.command![0]).toBe('bin/hea.js');
});
