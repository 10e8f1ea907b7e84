import { defineConfig } from 'vitest/config';
import { sourceAliases } from './src/dev/source-entries.js';

export default defineConfig({
  resolve: {
    // `onceflow/...` imports (examples, tests) resolve to source, as tsconfig.json's `paths` do.
    alias: Object.entries(sourceAliases()).map(([name, path]) => ({
      find: new RegExp(`^${name.replace('/', '\\/')}`),
      replacement: path,
    })),
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
