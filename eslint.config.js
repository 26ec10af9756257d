// ESLint (flat config) for the TypeScript: floating promises, unused code, and the layers' import rules
// (the project guide: imports run DOWN the layers, contracts <- process <- activities/workflows/config <-
// api/cli/app). `npm run lint` runs it with `prettier --check`; `npm test` runs `npm run lint`.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const UP_TO_THE_APP = 'the api, the CLI, the client and the app sit above this layer: shared shapes go in src/contracts/';

/** Relative imports of the top layer (api/, cli/, client, flows, app) from any depth. */
const topLayer = [
  { regex: '^(\\.\\.?/)+(api|cli)(/|$)', message: UP_TO_THE_APP },
  { regex: '^(\\.\\.?/)+(client|flows|app)\\.js$', message: UP_TO_THE_APP },
];

const WORKFLOW_SANDBOX = 'workflow code runs in the deterministic sandbox: no Node built-ins (do it in an activity)';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.venv/',
      'dist/',
      'var/',
      'data/',
      'models/',
      'reports/',
      'logs/',
      'coverage/',
      'jobs/',
      'test-artifacts/',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true, destructuredArrayIgnorePattern: '^_' },
      ],
      'no-unreachable': 'error',
      'no-unused-private-class-members': 'error',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...builtinModules.map((name) => ({ name, message: WORKFLOW_SANDBOX })),
            ...['@temporalio/activity', '@temporalio/client', '@temporalio/worker'].map((name) => ({
              name,
              message: 'workflow code imports @temporalio/workflow and /common only',
            })),
          ],
          patterns: [{ regex: '^node:', message: WORKFLOW_SANDBOX }, ...topLayer],
        },
      ],
    },
  },
  {
    files: ['src/activities/**/*.ts', 'src/config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...topLayer, { regex: '^(\\.\\.?/)+workflows/', message: 'activities and config never import workflows: shared shapes go in src/contracts/' }] },
      ],
    },
  },
  {
    files: ['src/process/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...topLayer,
            { regex: '^(\\.\\.?/)+(workflows|activities)/', message: 'src/process/ sits below activities and workflows: they import it, never the other way' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./', message: 'src/contracts/ imports nothing of ours (every layer imports it)' }] }],
    },
  },
);
