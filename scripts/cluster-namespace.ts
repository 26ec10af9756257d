// Registers TEMPORAL_NAMESPACE (default `default`) on the cluster at TEMPORAL_ADDRESS once it answers, then
// exits: docker-compose.yml's temporal-namespace one-shot. `npm run cluster` does the same in-process.
import { ensureNamespace } from './cluster/namespace.js';

const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
await ensureNamespace(address, namespace, 300_000);
process.stdout.write(`namespace ${namespace} ready at ${address}\n`);
process.exit(0);
