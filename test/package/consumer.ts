/**
 * The package as a user gets it: build dist/ (once per source state, under a lock, since several test
 * files may ask at once), `npm pack` it, and install the tarball into a fresh project outside the repo.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** The repository root. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

const CACHE = join(REPO, 'node_modules', '.cache', 'onceflow-package-test');
const STAMP = join(CACHE, 'build-stamp');
const LOCK = join(CACHE, 'build.lock');

/** The public entry points: export subpath → source file (relative to src/) → compiled file (relative to the repo). */
export interface EntryPoint {
  subpath: string;
  /** `onceflow`, `onceflow/workflow`, … */
  specifier: string;
  source: string;
  types: string;
  default: string;
}

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  bin: Record<string, string>;
  files: string[];
  allowScripts: Record<string, boolean>;
}

export function packageJson(): PackageJson {
  return JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageJson;
}

/** Every code entry of the `exports` map (not `./package.json`), with the source it is compiled from. */
export function entryPoints(): EntryPoint[] {
  const pkg = packageJson();
  return Object.entries(pkg.exports).flatMap(([subpath, target]) => {
    if (typeof target === 'string') return [];
    const rel = target.default.replace(/^\.\/dist\//, '');
    return [
      {
        subpath,
        specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
        source: `src/${rel.replace(/\.js$/, '.ts')}`,
        types: target.types.replace(/^\.\//, ''),
        default: target.default.replace(/^\.\//, ''),
      },
    ];
  });
}

/** Entry points whose source exists yet (the engine's split lands file by file), and those still missing. */
export function entryPointsBySource(): { present: EntryPoint[]; missing: EntryPoint[] } {
  const all = entryPoints();
  const has = (e: EntryPoint) => existsSync(join(REPO, e.source));
  return { present: all.filter(has), missing: all.filter((e) => !has(e)) };
}

/** A digest of everything `npm run build` reads: a change to any of it makes {@link ensureBuilt} rebuild. */
export function buildInputsDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  const files = [
    ...walk(join(REPO, 'src')),
    ...['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/copy-assets.ts'].map((f) =>
      join(REPO, f),
    ),
  ].sort();
  for (const file of files) {
    hash.update(relative(REPO, file)).update('\0');
    if (existsSync(file)) hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(CACHE, { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock older than a build can take was left by a killed run.
      if (Date.now() - statSync(LOCK).mtimeMs > 5 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for the build lock ${LOCK}`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/**
 * Runs `npm run build` unless dist/ was built from exactly the current sources (as CI's `npm ci` does
 * not build: `prepack` does, and only when packing). Returns whether it built and how long it took.
 */
export async function ensureBuilt(): Promise<{ built: boolean; ms: number }> {
  return withBuildLock(async () => {
    const digest = buildInputsDigest();
    const fresh =
      existsSync(join(REPO, 'dist')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === digest;
    if (fresh) return { built: false, ms: 0 };
    const started = Date.now();
    rmSync(STAMP, { force: true });
    try {
      await execFileP('npm', ['run', 'build', '--silent'], { cwd: REPO, maxBuffer: 64 << 20 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`npm run build failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`, { cause: err });
    }
    writeFileSync(STAMP, digest);
    return { built: true, ms: Date.now() - started };
  });
}

/** What `npm pack --json` reports about one tarball. */
export interface PackReport {
  filename: string;
  /** Compressed bytes. */
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

/**
 * Packs the (already built) repo with `npm pack --json`; lifecycle scripts stay off since
 * {@link ensureBuilt} has built (`prepack` would rebuild). Without `destination`, a dry run.
 */
export async function pack(destination?: string): Promise<PackReport> {
  const args = ['pack', '--json', '--ignore-scripts'];
  args.push(...(destination ? ['--pack-destination', destination] : ['--dry-run']));
  const { stdout } = await execFileP('npm', args, { cwd: REPO, maxBuffer: 64 << 20 });
  const [report] = JSON.parse(stdout) as PackReport[];
  if (!report) throw new Error(`npm pack printed no report: ${stdout}`);
  return report;
}

/**
 * This process's environment without what an enclosing `npm test` exported about the repo
 * (npm_package_*, npm_config_local_prefix, INIT_CWD, …): the consumer must be its own project.
 * The npm cache and user config stay.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(cache|userconfig|registry)$/i;
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => (!/^npm_/i.test(k) || keep.test(k)) && k !== 'INIT_CWD'),
  );
}

/** A fresh project with the packed onceflow installed. */
export interface Consumer {
  /** The project directory (outside the repo). */
  dir: string;
  tarball: string;
  pack: PackReport;
  /** Wall time of `npm install` alone. */
  installMs: number;
  /** npm's output (warnings such as EBADENGINE land here). */
  installLog: string;
  /** Runs a command in the project; rejects on a non-zero exit. */
  run(cmd: string, args: string[], env?: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
}

/**
 * Builds if needed, packs the repo into `tmpDir` and installs the tarball into `tmpDir/consumer`, a new
 * `type: module` project. `tmpDir` must be outside the repo (under `os.tmpdir()`), so nothing resolves
 * through the repo's node_modules. The install prefers the npm cache the repo's own install filled;
 * `extra` adds packages (e.g. `@types/node@<version>`) in the same install.
 */
export async function installPacked(tmpDir: string, extra: string[] = []): Promise<Consumer> {
  if (!relative(REPO, tmpDir).startsWith('..')) throw new Error(`${tmpDir} is inside the repo`);
  await ensureBuilt();
  const report = await pack(tmpDir);
  const tarball = join(tmpDir, report.filename);
  const dir = join(tmpDir, 'consumer');
  mkdirSync(dir, { recursive: true });
  // npm 11 runs a dependency's install script only when the project allows it: the consumer makes the
  // repo's choices (embedded Postgres hydrates its binaries; protobufjs, @swc/core, esbuild need none).
  const manifest = {
    name: 'onceflow-consumer',
    version: '0.0.0',
    private: true,
    type: 'module',
    allowScripts: packageJson().allowScripts,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const run = async (cmd: string, args: string[], env: Record<string, string> = {}) =>
    execFileP(cmd, args, {
      cwd: dir,
      env: { ...cleanEnv(), ...env },
      maxBuffer: 64 << 20,
      timeout: 10 * 60_000,
    });
  const started = Date.now();
  const { stdout, stderr } = await run('npm', [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--loglevel=warn',
    tarball,
    ...extra,
  ]);
  const installMs = Date.now() - started;
  return { dir, tarball, pack: report, installMs, installLog: stdout + stderr, run };
}
