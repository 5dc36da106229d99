// The package bundled into a user's app: a small Express app written in TypeScript that imports
// header-guard as a user does and mounts headerGuard(), bundled (with its dependencies, source maps
// on) by esbuild, tsup, webpack and Rollup into CommonJS and ES modules, and by Vite (SSR build).
// Each bundle runs in its own process, with and without --enable-source-maps, and answers real
// requests over loopback: one report for the bug naming both .ts lines of the app, none for the
// correct route, and the client's answer the same as without the guard. A bundle without a map
// names bundle positions, and never the guard's own frames.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import * as esbuild from 'esbuild';
import { rollup, type Plugin } from 'rollup';
import { request } from './helpers.js';

/** The app: a route with a missing `return` before a second answer, and a correct route. */
const APP = `import express from 'express';
import headerGuard from 'header-guard';

const app = express();
if (process.env.NO_GUARD !== '1') app.use(headerGuard());

app.get('/greet', (req, res) => {
  if (typeof req.query.name !== 'string') {
    res.status(400).json({ error: 'name is required' });
  }
  res.json({ hello: req.query.name });
});

app.get('/ok', (_req, res) => {
  res.json({ hello: 'world' });
});

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log('listening ' + (typeof address === 'object' && address !== null ? address.port : ''));
});
`;

/** The app's lines of the first answer and of the late one (1-based). */
const FIRST_LINE = APP.split('\n').findIndex((line) => line.includes("error: 'name is required'")) + 1;
const LATE_LINE = APP.split('\n').findIndex((line) => line.includes('hello: req.query.name')) + 1;

/** An Express app bundled as ES module needs `require` for its CommonJS dependencies' Node built-ins (esbuild's documented banner). */
const REQUIRE_BANNER = "import { createRequire as __hgCreateRequire } from 'node:module'; const require = __hgCreateRequire(import.meta.url);";

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hg-bundlers-'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'app.ts'), APP);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bundled-app', private: true }));
  // What an install gives the app: header-guard (this repository, as `npm link` or a workspace
  // would) and express, each with its own dependencies.
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  const root = join(__dirname, '..');
  symlinkSync(root, join(modules, 'header-guard'), 'dir');
  symlinkSync(join(root, 'node_modules', 'express'), join(modules, 'express'), 'dir');
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** What one run of a bundle printed and answered. */
interface Run {
  stderr: string;
  answers: Array<{ status: number; body: string; type: string | undefined }>;
}

/** Run a bundle, send the buggy and the correct request, stop it; what it printed and answered. */
async function run(file: string, flags: string[], env: Record<string, string> = {}, cwd = dir): Promise<Run> {
  const child = spawn(process.execPath, [...flags, file], { cwd, env: { ...process.env, NODE_ENV: 'development', NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start within 10 s: ${stderr}`)), 10_000);
      const look = (): void => {
        const match = /listening (\d+)/.exec(stdout);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout.on('data', look);
      child.on('close', () => reject(new Error(`exited before listening: ${stderr}`)));
    });
    const answers = [];
    for (const path of ['/greet', '/ok']) {
      const answer = await request(`http://127.0.0.1:${port}${path}`, { timeout: 5000 });
      answers.push({ status: answer.status, body: answer.body, type: answer.headers['content-type'] });
    }
    return { stderr, answers };
  } finally {
    child.kill();
    await closed;
  }
}

/** The reports in a run's output: each `header-guard:` line with the indented lines under it. */
function reports(stderr: string): string[][] {
  const found: string[][] = [];
  let current: string[] | undefined;
  for (const line of stderr.split('\n')) {
    if (line.startsWith('header-guard:')) found.push((current = [line]));
    else if (current !== undefined && line.startsWith('  ')) current.push(line);
    else current = undefined;
  }
  return found;
}

/** The first `at` line after the line that starts with `heading` in a report. */
function siteAfter(report: string[], heading: RegExp): string | undefined {
  const index = report.findIndex((line) => heading.test(line.trim()));
  return index === -1 ? undefined : report.slice(index + 1).find((line) => line.trim().startsWith('at '));
}

/** No line of a report names the guard: its files, its compiled wrappers, its functions. */
function assertNoGuardFrame(report: string[]): void {
  for (const line of report) {
    assert.doesNotMatch(line, /header-guard[\\/]|wt-[\w-]+[\\/]dist|[\\/]dist[\\/](report|patch|middleware)|compiled-wrapper|headerGuard[A-Z]/, `names the guard: ${line}`);
  }
}

/**
 * A preload that replaces Error.prepareStackTrace as Next.js does: V8's own frames, printed as
 * V8 prints them, so Node's --enable-source-maps no longer maps them.
 */
const PREPARE_STACK_TRACE = `Error.prepareStackTrace = (error, frames) => String(error) + frames.map((frame) => '\\n    at ' + frame).join('');\n`;

/** A bundle with a map: one report naming both .ts lines, with and without --enable-source-maps; the same answers as without the guard. */
async function assertBundle(file: string, more: string[][] = [], cwd = dir): Promise<void> {
  const without = await run(file, [], { NO_GUARD: '1' }, cwd);
  assert.equal(without.answers[0]?.status, 400, without.stderr);
  for (const flags of [[], ['--enable-source-maps'], ...more]) {
    const result = await run(file, flags, {}, cwd);
    assert.deepEqual(result.answers, without.answers, 'the client gets the same answers');
    const found = reports(result.stderr);
    assert.equal(found.length, 1, `exactly one report (${flags.join(' ') || 'no flag'}):\n${result.stderr}`);
    const report = found[0]!;
    assert.match(siteAfter(report, /^late call:/) ?? '', new RegExp(`at (\\S+ \\()?src/app\\.ts:${LATE_LINE}:\\d+`), report.join('\n'));
    assert.match(siteAfter(report, /^sent .*earlier:$/) ?? '', new RegExp(`at (\\S+ \\()?src/app\\.ts:${FIRST_LINE}:\\d+`), report.join('\n'));
    assertNoGuardFrame(report);
  }
}

/** esbuild's options shared by its bundles (tsup takes the same). */
const ESBUILD_COMMON = { bundle: true, platform: 'node', sourcemap: true, logLevel: 'silent', target: 'node20' } as const;

/** A Rollup plugin: TypeScript through esbuild's transform (with its map), as a TypeScript plugin would. */
function rollupTypeScript(): Plugin {
  return {
    name: 'typescript-by-esbuild',
    async transform(code, id) {
      if (!id.endsWith('.ts')) return null;
      const result = await esbuild.transform(code, { loader: 'ts', sourcemap: 'external', sourcefile: id, format: 'esm' });
      return { code: result.code, map: result.map };
    },
  };
}

/** A Rollup plugin: JSON modules (mime-db's database), as @rollup/plugin-json would. */
function rollupJSON(): Plugin {
  return {
    name: 'json',
    transform(code, id) {
      return id.endsWith('.json') ? { code: `export default ${code};`, map: { mappings: '' } } : null;
    },
  };
}

describe('bundled with the app', { timeout: 240_000 }, () => {
  it('esbuild, CommonJS', async () => {
    const outfile = join(dir, 'esbuild-cjs', 'app.js');
    await esbuild.build({ ...ESBUILD_COMMON, entryPoints: [join(dir, 'src', 'app.ts')], outfile, format: 'cjs' });
    const prepare = join(dir, 'prepare-stack-trace.cjs');
    writeFileSync(prepare, PREPARE_STACK_TRACE);
    // Stacks that stay on bundle positions although Node has the maps, as under next dev.
    await assertBundle(outfile, [['--enable-source-maps', '--require', prepare]]);
  });

  it('esbuild, CommonJS, header-guard installed as npm installs it (a copy under node_modules)', async () => {
    const installed = join(dir, 'installed');
    const root = join(__dirname, '..');
    mkdirSync(join(installed, 'node_modules', 'header-guard'), { recursive: true });
    cpSync(join(root, 'package.json'), join(installed, 'node_modules', 'header-guard', 'package.json'));
    cpSync(join(root, 'dist'), join(installed, 'node_modules', 'header-guard', 'dist'), { recursive: true });
    for (const name of ['express', 'debug', 'on-finished']) symlinkSync(join(root, 'node_modules', name), join(installed, 'node_modules', name), 'dir');
    mkdirSync(join(installed, 'src'));
    writeFileSync(join(installed, 'src', 'app.ts'), APP);
    const outfile = join(installed, 'dist', 'app.js');
    await esbuild.build({ ...ESBUILD_COMMON, entryPoints: [join(installed, 'src', 'app.ts')], outfile, format: 'cjs' });
    await assertBundle(outfile, [], installed);
  });

  it('esbuild, ES module', async () => {
    const outfile = join(dir, 'esbuild-esm', 'app.mjs');
    await esbuild.build({ ...ESBUILD_COMMON, entryPoints: [join(dir, 'src', 'app.ts')], outfile, format: 'esm', banner: { js: REQUIRE_BANNER } });
    await assertBundle(outfile);
  });

  it('tsup, CommonJS and ES module', async () => {
    const { build } = await import('tsup');
    const outDir = join(dir, 'tsup');
    await build({ entry: { app: join(dir, 'src', 'app.ts') }, outDir, format: ['cjs', 'esm'], sourcemap: true, platform: 'node', target: 'node20', noExternal: [/.*/], silent: true, config: false, banner: ({ format }) => (format === 'esm' ? { js: REQUIRE_BANNER } : {}) });
    await assertBundle(join(outDir, 'app.js'));
    await assertBundle(join(outDir, 'app.mjs'));
  });

  it('webpack (production mode): CommonJS minified, ES module not', async () => {
    const webpack = (await import('webpack')).default;
    const loader = join(dir, 'ts-loader.cjs');
    // TypeScript through esbuild's transform, passing its map on, as esbuild-loader does.
    writeFileSync(loader, `const esbuild = require(${JSON.stringify(require.resolve('esbuild'))});
module.exports = function (source) {
  const done = this.async();
  esbuild.transform(source, { loader: 'ts', sourcemap: 'external', sourcefile: this.resourcePath, format: 'esm' })
    .then((result) => done(null, result.code, JSON.parse(result.map)), done);
};
`);
    const outDir = join(dir, 'webpack');
    const common: import('webpack').Configuration = {
      mode: 'production',
      target: 'node',
      context: dir,
      entry: join(dir, 'src', 'app.ts'),
      devtool: 'source-map',
      resolve: { extensions: ['.ts', '.js', '.json'] },
      module: { rules: [{ test: /\.ts$/, loader }] },
      infrastructureLogging: { level: 'none' },
      stats: 'none',
    };
    // Production mode otherwise writes NODE_ENV=production into the bundle, and the guard runs
    // with production's defaults (adaptive capture) whatever the environment says (docs/bundlers.md).
    const configs: import('webpack').Configuration[] = [
      { ...common, output: { path: outDir, filename: 'app.js', library: { type: 'commonjs2' } }, optimization: { nodeEnv: false } },
      {
        ...common,
        experiments: { outputModule: true },
        output: { path: outDir, filename: 'app.mjs', module: true, chunkFormat: 'module', library: { type: 'module' } },
        optimization: { nodeEnv: false, minimize: false },
      },
    ];
    const stats = await new Promise<import('webpack').MultiStats | undefined>((resolve, reject) => {
      webpack(configs, (error, result) => (error ? reject(error) : resolve(result)));
    });
    assert.equal(stats?.hasErrors(), false, stats?.toString());
    await assertBundle(join(outDir, 'app.js'));
    await assertBundle(join(outDir, 'app.mjs'));
  });

  it('Rollup (node-resolve, commonjs), CommonJS and ES module', async () => {
    const bundle = await rollup({
      input: join(dir, 'src', 'app.ts'),
      plugins: [rollupTypeScript(), rollupJSON(), nodeResolve({ preferBuiltins: true, extensions: ['.ts', '.js', '.json'] }), commonjs({ ignoreDynamicRequires: true })],
      onwarn: () => {},
    });
    try {
      await bundle.write({ file: join(dir, 'rollup', 'app.js'), format: 'cjs', sourcemap: true, inlineDynamicImports: true });
      await bundle.write({ file: join(dir, 'rollup', 'app.mjs'), format: 'es', sourcemap: true, inlineDynamicImports: true, banner: REQUIRE_BANNER });
    } finally {
      await bundle.close();
    }
    await assertBundle(join(dir, 'rollup', 'app.js'));
    await assertBundle(join(dir, 'rollup', 'app.mjs'));
  });

  it('Vite, SSR build (ES module, dependencies bundled)', async () => {
    const { build } = await import('vite');
    const outDir = join(dir, 'vite');
    await build({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      build: { ssr: join(dir, 'src', 'app.ts'), outDir, sourcemap: true, emptyOutDir: true, rolldownOptions: { output: { entryFileNames: 'app.mjs' } } },
      ssr: { noExternal: true },
    });
    await assertBundle(join(outDir, 'app.mjs'));
  });

  it('without a map: bundle positions of the app\'s lines, never the guard\'s frames', async () => {
    const outfile = join(dir, 'esbuild-nomap', 'app.js');
    await esbuild.build({ ...ESBUILD_COMMON, sourcemap: false, entryPoints: [join(dir, 'src', 'app.ts')], outfile, format: 'cjs' });
    const lines = readFileSync(outfile, 'utf8').split('\n');
    const late = lines.findIndex((line) => line.includes('hello: req.query.name')) + 1;
    const first = lines.findIndex((line) => line.includes('error: "name is required"')) + 1;
    for (const flags of [[], ['--enable-source-maps']]) {
      const result = await run(outfile, flags);
      const found = reports(result.stderr);
      assert.equal(found.length, 1, result.stderr);
      const report = found[0]!;
      assert.match(siteAfter(report, /^late call:/) ?? '', new RegExp(`esbuild-nomap/app\\.js:${late}:\\d+`), report.join('\n'));
      assert.match(siteAfter(report, /^sent .*earlier:$/) ?? '', new RegExp(`esbuild-nomap/app\\.js:${first}:\\d+`), report.join('\n'));
      assertNoGuardFrame(report);
    }
  });
});
