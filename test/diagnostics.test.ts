// Diagnostics that point at the right line: TypeScript source maps (tsc, CommonJS and ESM),
// async chains, `ignore` and `frames`, eval code, code frames and colour, the timeline.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useColor } from '../src/report/codeframe.js';
import type { Violation } from '../src/index.js';
import { DIAGNOSTICS_APP_FILE, diagnosticsApp } from './fixtures/diagnostics-app.js';
import { EXPRESS_VERSIONS, collector, markerLine, markerSite, requestApp, settle, waitFor, offendingOf } from './helpers.js';

const ROOT = join(__dirname, '..');
const [, express] = EXPRESS_VERSIONS[1]!;

describe('TypeScript compiled by tsc, with source maps', () => {
  const source = join(__dirname, 'fixtures', 'sourcemap', 'app.ts');
  const out = join(ROOT, '.tmp', `sourcemap-${process.pid}`);
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const compile = (dir: string, module: string) =>
    execFileSync(process.execPath, [tsc, source, '--outDir', dir, '--module', module, '--moduleResolution', module === 'node16' ? 'node16' : 'bundler', '--target', 'ES2022', '--rootDir', join(__dirname, 'fixtures', 'sourcemap'), '--sourceMap', '--esModuleInterop', '--skipLibCheck', '--strict', '--types', 'node'], { cwd: ROOT, encoding: 'utf8' });

  before(() => {
    rmSync(out, { recursive: true, force: true });
    compile(join(out, 'cjs'), 'node16');
    writeFileSync(join(out, 'cjs', 'package.json'), '{"type":"commonjs"}');
    compile(join(out, 'esm'), 'es2022');
    writeFileSync(join(out, 'esm', 'package.json'), '{"type":"module"}');
    // The compiled app imports 'header-guard' as an app would: from node_modules.
    mkdirSync(join(out, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(out, 'node_modules', 'header-guard'), 'dir');
    // Enabling source maps from code must happen before the app loads.
    writeFileSync(join(out, 'cjs', 'enable.cjs'), "process.setSourceMapsEnabled(true); require('./app.js');");
    writeFileSync(join(out, 'esm', 'enable.mjs'), "process.setSourceMapsEnabled(true); await import('./app.js');");
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  const cases: Array<[string, string[]]> = [
    ['CommonJS, --enable-source-maps', ['--enable-source-maps', join(out, 'cjs', 'app.js')]],
    ['CommonJS, process.setSourceMapsEnabled(true)', [join(out, 'cjs', 'enable.cjs')]],
    ['ESM, --enable-source-maps', ['--enable-source-maps', join(out, 'esm', 'app.js')]],
    ['ESM, process.setSourceMapsEnabled(true)', [join(out, 'esm', 'enable.mjs')]],
    // Without the flag the guard reads the map itself (report/sourcemap.ts).
    ['CommonJS, no flag', [join(out, 'cjs', 'app.js')]],
    ['ESM, no flag', [join(out, 'esm', 'app.js')]],
  ];
  for (const [name, args] of cases) {
    it(`${name}: every site is the .ts position, across awaits`, () => {
      // Run from the project root, as an app is: reports print paths relative to it.
      const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      assert.equal(child.status, 0, child.stderr);
      const report = child.stderr;
      const site = (marker: string) => `${join('test', 'fixtures', 'sourcemap', 'app.ts')}:${markerLine(source, marker)}:`;
      assert.match(report, /res\.json\(\) was called after the response was already sent by res\.json\(\)/);
      assert.ok(report.includes(`at sendOrder (${site('map:late')}`), report);
      assert.ok(report.includes(`at sendOrder (${site('map:first')}`), report);
      // The async caller, across the await.
      assert.ok(report.includes(site('map:caller')), report);
      assert.ok(!/\bapp\.js:\d/.test(report), `no compiled positions:\n${report}`);
    });
  }

  it('without a source map, the compiled positions are what the report names', () => {
    const compiled = readFileSync(join(out, 'cjs', 'app.js'), 'utf8');
    writeFileSync(join(out, 'cjs', 'nomap.js'), compiled.replace(/\/\/# sourceMappingURL=.*$/m, ''));
    const child = spawnSync(process.execPath, [join(out, 'cjs', 'nomap.js')], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stderr, /\.tmp\/sourcemap-\d+\/cjs\/nomap\.js:\d+:\d+/);
  });
});

async function violationsOf(path: string, options: Parameters<typeof diagnosticsApp>[1] = {}): Promise<Violation[]> {
  const { violations, onViolation } = collector();
  await requestApp(diagnosticsApp(express, { codeFrame: false, ...options, onViolation }), path);
  await waitFor(() => violations.length > 0, 1000, 'a violation');
  await settle(20);
  return violations;
}

const shown = (stack: Violation['offendingStack']) => stack.map((site) => `${site.file.slice(ROOT.length + 1)}:${site.line}:`);

describe('async chains, callers, ignore and frames', () => {
  it('a late call after awaits names its line and the async callers', async () => {
    const [violation] = await violationsOf('/async');
    assert.deepEqual(shown(violation!.offendingStack).slice(0, 2), [markerSite(DIAGNOSTICS_APP_FILE, 'async:late'), markerSite(DIAGNOSTICS_APP_FILE, 'async:caller')]);
    assert.equal(violation!.offendingStack[1]?.function, 'handle');
    assert.equal(shown(violation!.firstSentStack)[0], markerSite(DIAGNOSTICS_APP_FILE, 'async:first'));
  });

  it('a shared helper shows the helper line, then each caller', async () => {
    const [violation] = await violationsOf('/helper');
    const helper = join('test', 'fixtures', 'internal-lib', 'reply.ts');
    assert.equal(shown(violation!.offendingStack)[0], `${helper}:${markerLine(join(ROOT, helper), 'lib:json')}:`);
    assert.equal(shown(violation!.offendingStack)[1], markerSite(DIAGNOSTICS_APP_FILE, 'helper:late'));
    assert.equal(shown(violation!.firstSentStack)[1], markerSite(DIAGNOSTICS_APP_FILE, 'helper:first'));
  });

  it('ignore: a company helper counts as library code, so the first frame is its caller', async () => {
    for (const pattern of ['fixtures/internal-lib/', /internal-lib[\\/]reply/]) {
      const [violation] = await violationsOf('/helper', { ignore: [pattern] });
      assert.equal(shown(violation!.offendingStack)[0], markerSite(DIAGNOSTICS_APP_FILE, 'helper:late'));
      assert.equal(shown(violation!.firstSentStack)[0], markerSite(DIAGNOSTICS_APP_FILE, 'helper:first'));
    }
  });

  it('frames: how many user frames each site shows', async () => {
    const [one] = await violationsOf('/helper', { frames: 1 });
    assert.equal(one!.offendingStack.length, 1);
    const [five] = await violationsOf('/async', { frames: 5 });
    assert.ok(five!.offendingStack.length >= 2);
  });

  it('code in new Function is skipped: the report names the line that called it', async () => {
    const [violation] = await violationsOf('/eval');
    assert.equal(shown(violation!.offendingStack)[0], markerSite(DIAGNOSTICS_APP_FILE, 'eval:late'));
  });
});

describe('code frames and colour', () => {
  it('codeFrame: true shows the source line with a caret under the column', async () => {
    const [violation] = await violationsOf('/helper', { codeFrame: true, ignore: ['internal-lib'] });
    const line = markerLine(DIAGNOSTICS_APP_FILE, 'helper:late');
    const text = readFileSync(DIAGNOSTICS_APP_FILE, 'utf8').split('\n')[line - 1]!;
    const lines = violation!.message.split('\n');
    const index = lines.findIndex((l) => l.includes(`> ${line} | ${text}`));
    assert.ok(index > 0, violation!.message);
    const caret = lines[index + 1]!;
    assert.equal(caret.indexOf('^') - caret.indexOf('|') - 2, offendingOf(violation)!.column - 1);
    assert.ok(!violation!.message.includes('\u001b['), 'the message itself has no colour');
  });

  it('codeFrame: false shows none', async () => {
    const [violation] = await violationsOf('/helper', { codeFrame: false });
    assert.ok(!/> \d+ \|/.test(violation!.message));
  });

  it('colour only on a TTY, never with NO_COLOR, always with FORCE_COLOR', () => {
    assert.equal(useColor({ isTTY: true }, {}), true);
    assert.equal(useColor({ isTTY: false }, {}), false);
    assert.equal(useColor({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(useColor({ isTTY: false }, { FORCE_COLOR: '1' }), true);
    assert.equal(useColor({ isTTY: true }, { FORCE_COLOR: '0' }), false);
    assert.equal(useColor({ isTTY: true }, { NO_COLOR: '' }), true);
  });

  it('writes coloured reports to stderr only when asked by FORCE_COLOR (not a TTY here)', () => {
    const script = `
      const express = require('express');
      const { headerGuard } = require('./src/index.ts');
      const app = express();
      app.use(headerGuard({ codeFrame: true }));
      app.get('/', (req, res) => { res.send('ok'); res.status(500); });
      const server = app.listen(0, '127.0.0.1', async () => {
        await fetch('http://127.0.0.1:' + server.address().port + '/');
        server.close();
      });`;
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env } });
    const plain = run({ FORCE_COLOR: '0' });
    assert.ok(plain.stderr.includes('header-guard: res.status(500)') && !plain.stderr.includes('\u001b['), plain.stderr);
    const colored = run({ FORCE_COLOR: '1' });
    assert.ok(colored.stderr.includes('\u001b[1;31mheader-guard: res.status(500)'), colored.stderr);
  });
});

describe('timeline', () => {
  it('throw mode lists the response events in order, with the late call last', async () => {
    const { violations, onViolation } = collector();
    const app = express();
    const { headerGuard } = await import('../src/index.js');
    app.use(headerGuard({ mode: 'throw', onViolation, codeFrame: false }));
    app.get('/', (req, res) => {
      res.set('x-request-id', 'secret-id');
      res.json({ ok: true });
      setTimeout(() => {
        try {
          res.status(500);
        } catch {
          // thrown in throw mode; the test reads the report
        }
      }, 2);
    });
    await requestApp(app, '/');
    await waitFor(() => violations.length > 0);
    const message = violations[0]!.message;
    const timeline = message.slice(message.indexOf('  timeline (ms since header-guard saw the response):'));
    const events = timeline.split('\n').slice(1).map((line) => line.replace(/^\s+\+[\d.]+\s+/, ''));
    assert.deepEqual(events.slice(0, 2), ["res.setHeader('x-request-id')", 'res.json() claims the body']);
    assert.ok(events.includes('headers sent (status 200) by res.json()'), timeline);
    assert.ok(events.indexOf('ended') > events.indexOf('headers sent (status 200) by res.json()'), timeline);
    assert.equal(events.at(-1), 'res.status(500)  <- the late call');
    const offsets = timeline.split('\n').slice(1).map((line) => Number(/\+([\d.]+)/.exec(line)?.[1]));
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'in time order');
    assert.ok(!message.includes('secret-id'));
  });

  it('log mode keeps no timeline (it costs per response)', async () => {
    const [violation] = await violationsOf('/eval');
    assert.ok(!violation!.message.includes('timeline'));
  });
});
