// Jest runs the TypeScript sources as ES modules (execa is ESM-only): node --experimental-vm-modules,
// with @swc/jest (already a dependency of the Temporal worker's bundler) as the transpiler.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The cluster suite (PostgreSQL, a Temporal server built from Go, separate processes) is `npm run test:cluster`.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'],
  testTimeout: 180_000,
  // Each file starts its own Temporal dev server on free ports; the machine has 2 cores.
  maxWorkers: 1,
};
