#!/usr/bin/env -S node --max-semi-space-size=2
// The `hea` command: runs the TypeScript sources through tsx (no build step to forget).
//
// --max-semi-space-size=2 (MB; V8's default grows to 16): a small young generation keeps an idle `hea dev`
// ~25-35 MB smaller (bench/host.ts idle memory). 1 saves a little more but triples the GC time per API
// request under load; 2 costs no CPU per request that could be measured. A V8 heap flag works only on node's
// command line (v8.setFlagsFromString is too late: the heap is set up by then), so this line is its one
// place: services are started as `bin/hea.js ...` (package.json, Dockerfile, docker-compose.yml,
// docs/operations.md), never as `node bin/hea.js ...`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/client.ts');
await main(process.argv);
