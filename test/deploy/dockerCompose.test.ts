// No Docker engine runs here, so the production stack is checked by reading it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/env.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  restart?: string;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const { services } = compose;

test('the stack has PostgreSQL, Temporal on it, the Web UI and the worker', () => {
  expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'worker']));
  expect(services.postgresql!.image).toMatch(/^postgres:\d+/);
  expect(services.temporal!.image).toMatch(/^temporalio\/auto-setup:\d+\.\d+\.\d+$/);
  expect(services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  expect(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
});

test('the meter API and InfluxDB: the API talks to the cluster and listens on all interfaces', () => {
  const api = services.api!;
  expect(api.command).toEqual(['node', 'bin/hea.js', 'api']);
  expect(api.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', HEA_API_HOST: '0.0.0.0', HEA_API_PORT: '8000' });
  // Loopback only: nobody on the network can start trainings on an API without a token.
  expect(api.ports).toEqual(['127.0.0.1:8000:8000']);
  expect(services.influxdb!.image).toMatch(/^influxdb:1\./);
  expect(services.worker!.environment!.HEA_INFLUX_URL).toBe('http://influxdb:8086');
});

test('ports: gRPC 7233 and the Web UI are published', () => {
  expect(services.temporal!.ports).toContain('7233:7233');
  expect(services['temporal-ui']!.ports).toContain('8080:8080');
});

test('every service has a health check and starts after what it needs is healthy', () => {
  for (const [name, service] of Object.entries(services)) {
    if (service.restart === 'no') continue; // a one-shot job, not a service to watch
    expect([name, Array.isArray(service.healthcheck?.test)]).toEqual([name, true]);
  }
  expect(services.schedules).toMatchObject({ command: ['node', 'bin/hea.js', 'schedules', 'apply'], restart: 'no' });
  expect(services.schedules!.depends_on!.temporal!.condition).toBe('service_healthy');
  expect(services.temporal!.depends_on!.postgresql!.condition).toBe('service_healthy');
  expect(services.worker!.depends_on!.temporal!.condition).toBe('service_healthy');
  expect(services.worker!.healthcheck!.test).toEqual(['CMD', 'node', 'bin/hea.js', 'health']);
});

test('the worker is built from the Dockerfile and pointed at the cluster, with persistent data', () => {
  const worker = services.worker!;
  expect(worker.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
  expect(worker.command).toEqual(['node', 'bin/hea.js', 'worker']);
  expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default', HEA_TASK_QUEUE: 'home-energy' });
  expect(worker.volumes).toEqual(expect.arrayContaining(['energy-data:/app/data', 'energy-models:/app/models']));
  for (const volume of worker.volumes!) expect(Object.keys(compose.volumes)).toContain(volume.split(':')[0]);
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/pip install .*-r jobs\/requirements\.txt/);
  expect(dockerfile).toMatch(/CMD \["node", "bin\/hea\.js", "worker"\]/);
  for (const copied of dockerfile.matchAll(/^COPY (.+)$/gm)) {
    const sources = copied[1]!.trim().split(/\s+/).slice(0, -1); // the last word is the destination
    for (const path of sources) expect([path, existsSync(join(ROOT, path))]).toEqual([path, true]);
  }
});
