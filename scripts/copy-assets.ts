/**
 * The non-TypeScript half of `npm run build`: copies the files the compiled code reads at run time
 * (migrations `*.sql`, sandbox scenarios `*.json`, …) from src/ to the same paths under dist/, where
 * `new URL('./migrations/', import.meta.url)` finds them. `--clean` removes dist/ first instead, so a
 * build never ships the output of a source file that no longer exists.
 *
 *   tsx scripts/copy-assets.ts --clean && tsc -p tsconfig.build.json && tsx scripts/copy-assets.ts
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Source files tsc compiles or that never belong in the package (tests, fixtures, editor litter). */
const SKIP = [/\.ts$/, /\.test\./, /(^|\/)(__)?fixtures?(__)?\//, /(^|\/)\.[^/]*$/];

function assetsIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .filter((file) => !SKIP.some((pattern) => pattern.test(file)))
    .sort();
}

if (process.argv.includes('--clean')) {
  rmSync(dist, { recursive: true, force: true });
} else {
  const files = assetsIn(src);
  for (const file of files) {
    mkdirSync(dirname(join(dist, file)), { recursive: true });
    copyFileSync(join(src, file), join(dist, file));
  }
  process.stdout.write(`copy-assets: ${files.length} files from src/ to dist/\n`);
}
