#!/usr/bin/env node
// The `onceflow` command. An installed package runs the compiled CLI (dist/cli.js, plain Node). A
// source checkout (src/cli.ts present, tsx installed as a devDependency) runs the TypeScript source
// through tsx instead, so a stale dist/ never answers for the code in front of you.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const source = new URL('../src/cli.ts', import.meta.url);
const compiled = new URL('../dist/cli.js', import.meta.url);

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && hasTsx()) {
  const { register } = await import('tsx/esm/api');
  // The repo's tsconfig (its `paths` map `onceflow/...` to src/ for the examples), whatever the cwd.
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write(
    'onceflow: dist/cli.js is missing; run `npm run build` (or install tsx to run src/)\n',
  );
  process.exit(1);
}
