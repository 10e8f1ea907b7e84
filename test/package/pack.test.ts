import { builtinModules } from 'node:module';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startScriptedModel } from '../../src/testing/index.js';
import { startTicketService } from './ticket-service.js';
import {
  REPO,
  ensureBuilt,
  entryPointsBySource,
  installPacked,
  pack,
  packageJson,
  type Consumer,
  type PackReport,
} from './consumer.js';

const { present, missing } = entryPointsBySource();
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

let report: PackReport;
let paths: string[];

beforeAll(async () => {
  const build = await ensureBuilt();
  console.log(
    build.built ? `npm run build: ${(build.ms / 1000).toFixed(1)} s` : 'dist/ is current; no build',
  );
  report = await pack();
  paths = report.files.map((f) => f.path);
  console.log(
    `npm pack: ${report.filename} ${kb(report.size)} packed, ${kb(report.unpackedSize)} unpacked, ${report.entryCount} files`,
  );
  if (missing.length)
    console.warn(
      `entry points without source yet (not checked): ${missing.map((e) => `${e.subpath} (${e.source})`).join(', ')}`,
    );
}, 600_000);

describe('npm pack', () => {
  it('contains package.json, README.md and the bin', () => {
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/onceflow.js']));
  });

  it.each(present.map((e) => [e.subpath, e] as const))(
    'contains the compiled JS and the types of the %s entry point',
    (_subpath, entry) => {
      expect(paths).toContain(entry.default);
      expect(paths).toContain(entry.types);
    },
  );

  it('has an exports target for every entry, each with types first and under dist/', () => {
    const pkg = packageJson();
    expect(pkg.exports['./package.json']).toBe('./package.json');
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue;
      expect(target, subpath).toEqual({
        types: expect.stringMatching(/^\.\/dist\/.+\.d\.ts$/) as unknown,
        default: expect.stringMatching(/^\.\/dist\/.+\.js$/) as unknown,
      });
      // Conditions match in order: `types` must come before `default` or TypeScript never sees it.
      expect(Object.keys(target as object)).toEqual(['types', 'default']);
    }
  });

  it('holds no tests, fixtures, sources, examples, benchmarks or scripts', () => {
    const unwanted = paths.filter(
      (p) =>
        /^(src|test|tests|examples|bench|scripts|docs|coverage|node_modules|\.data|\.ci)\//.test(p) ||
        /(^|\/)(__)?fixtures?(__)?\//.test(p) ||
        /\.test\.[cm]?[jt]s$|\.spec\.[cm]?[jt]s$/.test(p) ||
        (/\.[cm]?ts$/.test(p) && !/\.d\.[cm]?ts$/.test(p)) ||
        /tsconfig.*\.json$|\.tsbuildinfo$|\.tgz$/.test(p),
    );
    expect(unwanted).toEqual([]);
  });

  it('ships every file the compiled code reads at run time (migrations, scenarios)', () => {
    const assets = readdirSync(join(REPO, 'src'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.(sql|json)$/.test(e.name))
      .map((e) => `dist/${join(e.parentPath, e.name).slice(join(REPO, 'src').length + 1)}`);
    expect(assets.length).toBeGreaterThan(0);
    expect(paths).toEqual(expect.arrayContaining(assets));
  });

  it('needs at run time only declared dependencies (no tsx, no devDependencies)', () => {
    const pkg = packageJson();
    const builtins = new Set(builtinModules);
    const undeclared = new Map<string, string>();
    for (const file of paths.filter((p) => /\.js$/.test(p) && p.startsWith('dist/'))) {
      const code = readFileSync(join(REPO, file), 'utf8');
      for (const [, spec] of code.matchAll(
        /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm,
      )) {
        if (!spec || spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        if (spec === pkg.name || spec.startsWith(`${pkg.name}/`)) continue; // itself, through `exports`
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!(name in pkg.dependencies)) undeclared.set(name, file);
      }
    }
    expect(Object.fromEntries(undeclared)).toEqual({});
    expect(pkg.dependencies).not.toHaveProperty('tsx');
  });
});

describe('installed from the tarball into a fresh project outside the repo', () => {
  let tmp: string;
  let consumer: Consumer;
  const run = (cmd: string, args: string[], env?: Record<string, string>) => consumer.run(cmd, args, env);

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'onceflow-consumer-'));
    const pkg = packageJson();
    const dep = (name: string) =>
      `${name}@${pkg.dependencies[name] ?? pkg.devDependencies[name] ?? 'latest'}`;
    // What a team's own worker depends on besides onceflow (the versions npm dedupes with onceflow's).
    consumer = await installPacked(tmp, [
      dep('@types/node'),
      dep('@temporalio/client'),
      dep('@temporalio/worker'),
      dep('pg'),
      dep('@types/pg'),
      dep('zod'),
    ]);
    console.log(
      `consumer install (npm install --prefer-offline ${consumer.pack.filename}): ${(consumer.installMs / 1000).toFixed(1)} s`,
    );
    const warnings = consumer.installLog
      .split('\n')
      .filter((l) => /warn/i.test(l) && !/Unknown (user|env) config/.test(l));
    if (warnings.length) console.log(`npm install warnings:\n${warnings.join('\n')}`);
  }, 900_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('resolves every entry point from node_modules/onceflow/dist with plain node', async () => {
    const specifiers = present.map((e) => e.specifier);
    const script = `
      const out = {};
      for (const spec of ${JSON.stringify(specifiers)}) {
        try {
          const resolved = import.meta.resolve(spec);
          const mod = await import(spec);
          out[spec] = { resolved, exports: Object.keys(mod).length };
        } catch (err) {
          out[spec] = { error: String(err && err.stack || err) };
        }
      }
      process.stdout.write(JSON.stringify(out));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    const result = JSON.parse(stdout) as Record<
      string,
      { resolved?: string; exports?: number; error?: string }
    >;
    for (const entry of present) {
      const r = result[entry.specifier];
      expect(r?.error, entry.specifier).toBeUndefined();
      expect(r?.resolved).toBe(`file://${consumer.dir}/node_modules/onceflow/${entry.default}`);
      expect(r?.exports, `${entry.specifier} exports something`).toBeGreaterThan(0);
    }
  }, 120_000);

  it('refuses deep imports outside the exports map', async () => {
    const { stdout } = await run(process.execPath, [
      '--input-type=module',
      '-e',
      `import('onceflow/dist/config.js').then(() => console.log('resolved'), (e) => console.log(e.code))`,
    ]);
    expect(stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('type-checks a strict NodeNext project importing every entry point (the repo’s tsc)', async () => {
    writeFileSync(
      join(consumer.dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022'],
          types: ['node'],
          strict: true,
          noEmit: true,
          // The consumer's own .d.ts files would be the package's: check them too, and every
          // dependency's types they pull in.
          skipLibCheck: false,
        },
        include: ['check.ts'],
      }),
    );
    writeFileSync(
      join(consumer.dir, 'check.ts'),
      [
        ...present.map((e, i) => `import * as entry${i} from '${e.specifier}';`),
        `export const entries = [${present.map((_, i) => `entry${i}`).join(', ')}];`,
        '',
      ].join('\n'),
    );
    const tsc = join(REPO, 'node_modules', '.bin', 'tsc');
    const result = await run(tsc, ['-p', 'tsconfig.json']).catch(
      (err: { stdout: string; stderr: string }) => err,
    );
    const errors = `${result.stdout}${result.stderr}`.split('\n').filter((l) => /\): error TS\d+/.test(l));
    // Errors inside other packages' own declarations are theirs (e.g. @temporalio/common's `ms`
    // import under NodeNext); ours are the consumer's file and everything under onceflow/.
    const theirs = errors.filter(
      (l) => l.startsWith('node_modules/') && !l.startsWith('node_modules/onceflow/'),
    );
    if (theirs.length)
      console.log(`type errors inside third-party declarations (not onceflow's):\n${theirs.join('\n')}`);
    expect(errors.filter((l) => !theirs.includes(l))).toEqual([]);
  }, 300_000);

  it('runs the onceflow command from dist/ without tsx', async () => {
    expect(existsSync(join(consumer.dir, 'node_modules', 'tsx'))).toBe(false);
    const { stdout } = await run(join(consumer.dir, 'node_modules', '.bin', 'onceflow'), ['--help']);
    expect(stdout).toMatch(/Usage: onceflow/);
    // Outside this repository there is no example to default to: `api` names what it needs.
    const api = await run(join(consumer.dir, 'node_modules', '.bin', 'onceflow'), ['api']).catch(
      (err: { stdout: string; stderr: string }) => err,
    );
    expect(api.stderr).toContain('--tasks <module> is required');
  }, 60_000);

  it('bundles onceflow/workflow into a Temporal workflow bundle (workflow-safe)', async () => {
    writeFileSync(
      join(consumer.dir, 'workflows.js'),
      `import * as onceflow from 'onceflow/workflow';\nexport async function probe() { return Object.keys(onceflow).length; }\n`,
    );
    writeFileSync(
      join(consumer.dir, 'bundle.js'),
      `import { bundleWorkflowCode } from '@temporalio/worker';
       import { fileURLToPath } from 'node:url';
       const noop = () => undefined;
       const logger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };
       const { code } = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflows.js', import.meta.url)), logger });
       process.stdout.write(String(code.length));\n`,
    );
    const { stdout } = await run(process.execPath, ['bundle.js']);
    expect(Number(stdout)).toBeGreaterThan(0);
  }, 180_000);

  it("runs the README's own agent (a tool, an agent, a worker, a start): a re-decided call and a dropped response, one ticket", async () => {
    // The README's "Your own agent" code, as files of the consumer project, compiled with tsc.
    const own = join(REPO, 'examples', 'own-agent');
    mkdirSync(join(consumer.dir, 'src'), { recursive: true });
    mkdirSync(join(consumer.dir, 'scenarios'), { recursive: true });
    for (const file of ['workflows.ts', 'activities.ts', 'main.ts'])
      copyFileSync(join(own, file), join(consumer.dir, 'src', file));
    copyFileSync(join(own, 'open-ticket.json'), join(consumer.dir, 'scenarios', 'open-ticket.json'));
    writeFileSync(
      join(consumer.dir, 'tsconfig.agent.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          strict: true,
          skipLibCheck: true,
          rootDir: 'src',
          outDir: 'dist',
        },
        include: ['src'],
      }),
    );
    const tsc = join(REPO, 'node_modules', '.bin', 'tsc');
    const compiled = await run(tsc, ['-p', 'tsconfig.agent.json']).catch(
      (err: { stdout: string; stderr: string }) => err,
    );
    expect(`${compiled.stdout}${compiled.stderr}`.trim()).toBe('');

    const tickets = await startTicketService();
    const model = await startScriptedModel({ scenariosDir: join(consumer.dir, 'scenarios') });
    try {
      tickets.dropNextResponse(); // the first ticket commits, its answer is lost: Temporal retries
      const ref = `T-${Date.now().toString(36)}`;
      const { stdout } = await run(process.execPath, ['dist/main.js', ref], {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        DATABASE_URL: inject('databaseUrl'),
        ANTHROPIC_BASE_URL: model.baseURL,
        TICKETS_URL: tickets.url,
        SCENARIO: 'open-ticket',
      });
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        status: string;
        toolCalls: { name: string; outcome: string; key?: string }[];
      };
      expect(result.status).toBe('completed');
      // Turn 1 executed (after a retry); turn 2, re-decided with reworded text, replayed.
      expect(result.toolCalls.map((c) => [c.name, c.outcome])).toEqual([
        ['open_ticket', 'executed'],
        ['open_ticket', 'replayed'],
      ]);
      expect(tickets.posts).toBe(2); // the lost answer's retry reached the API, with the same key
      expect(tickets.created.size).toBe(1); // one ticket downstream
      expect([...tickets.created.keys()]).toEqual([result.toolCalls[0]!.key]);
    } finally {
      await model.close();
      await tickets.close();
    }
  }, 300_000);
});
