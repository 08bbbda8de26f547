import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox: Node built-ins and
// packages with side effects would break replay, so they are banned there.
const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);
const workflowBannedPackages = [
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@kubernetes/client-node',
  '@slack/bolt',
  'fastify',
  'pino',
  'prom-client',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', '.data/', 'coverage/', 'tools/**/*.go'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...workflowBannedPackages].map((name) => ({
            name,
            message:
              'Workflow code must stay deterministic: import only @temporalio/workflow, domain/ and activity types.',
          })),
          patterns: [
            {
              group: ['../activities/*', '../activities/**'],
              allowTypeImports: true,
              message: 'Import activity types only.',
            },
            { group: ['../workers/*', '../cli/*'], message: 'Workflow code must not import process entry points.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['process', 'console', 'require', 'module', '__dirname', 'setInterval', 'setTimeout', 'clearInterval'].map(
          (name) => [name, 'readonly'],
        ),
      ),
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
