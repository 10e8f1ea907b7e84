/**
 * `npm run bench -- <name>…` runs `bench/<name>.ts` (each exports `run()`); with no name, every bench here.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const known = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();

const requested = process.argv.slice(2).filter((a) => a !== '--');
const unknown = requested.filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; known: ${known.join(', ')}`);
  process.exit(2);
}
// With no name: every bench, then the report that collects their results into docs/benchmarks.md.
const order = requested.length > 0 ? requested : [...known.filter((n) => n !== 'report'), 'report'];
for (const name of order) {
  const mod = (await import(`./${name}.ts`)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') throw new Error(`bench/${name}.ts does not export run()`);
  console.log(`\n== bench ${name}`);
  await mod.run();
}
