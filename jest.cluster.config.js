// `npm run test:cluster`: the production topology (scripts/cluster/) started for real and hurt on purpose.
// Kept out of `npm test` (jest.config.js ignores test/cluster/): it needs PostgreSQL and the Temporal
// server's Go build, and takes minutes.
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 900_000,
};
