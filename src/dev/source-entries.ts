import { fileURLToPath } from 'node:url';
import type { BundleOptions } from '@temporalio/worker';

/**
 * The package's entry points (`package.json` `exports`) and their source files. An installed package
 * resolves `onceflow/...` through `exports` to `dist/`; inside this repository the examples, tests and
 * benchmarks import the same specifiers, resolved to source: by `paths` in tsconfig.json (tsc, tsx),
 * by vitest's `resolve.alias`, and by {@link sourceBundlerOptions} in workflow bundles.
 */
export const SOURCE_ENTRIES: Readonly<Record<string, string>> = {
  onceflow: 'src/index.ts',
  'onceflow/workflow': 'src/workflow.ts',
  'onceflow/activity': 'src/activity.ts',
  'onceflow/worker': 'src/worker.ts',
  'onceflow/client': 'src/client.ts',
  'onceflow/api': 'src/api/plugin.ts',
  'onceflow/testing': 'src/testing/index.ts',
};

const repoRoot = new URL('../../', import.meta.url);
const fromSource = import.meta.url.endsWith('.ts');

/** Absolute source paths of {@link SOURCE_ENTRIES}, keyed for exact-match aliases (`name$`). */
export function sourceAliases(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(SOURCE_ENTRIES).map(([name, file]) => [
      `${name}$`,
      fileURLToPath(new URL(file, repoRoot)),
    ]),
  );
}

/**
 * Bundler options that resolve `onceflow/...` to source when onceflow itself runs from source (this
 * repository); empty when it runs compiled, where `exports` resolves them.
 */
export function sourceBundlerOptions(): Pick<BundleOptions, 'webpackConfigHook'> {
  if (!fromSource) return {};
  const aliases = sourceAliases();
  return {
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, alias: { ...(config.resolve?.alias as object), ...aliases } },
    }),
  };
}
