#!/usr/bin/env node
// The `hea` command: runs the TypeScript sources through tsx (no build step to forget).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/client.ts');
await main(process.argv);
