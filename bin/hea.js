#!/usr/bin/env -S node --max-semi-space-size=1
// The `hea` command: runs the TypeScript sources through tsx (no build step to forget).
//
// --max-semi-space-size=1 (MB; V8's default grows to 16): the young generation stays small, which keeps an
// idle `hea start` ~35 MB smaller (bench/host.ts idle memory) at no measurable cost to the API or the
// worker. A V8 heap flag works only on node's command line (v8.setFlagsFromString is too late: the heap is
// set up by then), so this line is its one place: services are started as `bin/hea.js ...` (package.json,
// Dockerfile, docker-compose.yml, docs/operations.md), never as `node bin/hea.js ...`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/client.ts');
await main(process.argv);
