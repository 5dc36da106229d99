// Defaults that cannot hurt, in real processes: the preload tried on an app keeps it serving
// (log mode unless NODE_ENV is test), one process prints one report per violation however many
// guards see it, and the off switch (HEADER_GUARD=off, or enabled: false) leaves every entry
// point's responses untouched. Each case is run beside its opposite, so that each can fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markerSite } from './helpers.js';

const ROOT = join(__dirname, '..');
const ENTRY_POINTS = join(__dirname, 'fixtures', 'entry-points.js');
const SCENARIO = join(__dirname, 'fixtures', 'register-scenario.js');

/** Run node in a child process with exactly these guard variables (the others removed). */
function run(args: string[], env: Record<string, string | undefined>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of ['NODE_TEST_CONTEXT', 'HEADER_GUARD', 'HEADER_GUARD_MODE', 'HEADER_GUARD_CONTAIN', 'HEADER_GUARD_LOG_ONLY', 'NODE_ENV']) delete childEnv[name];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value;
  const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: childEnv });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr, output: `${child.stdout}${child.stderr}` };
}

/** How many times a text occurs. */
const occurrences = (text: string, part: string) => text.split(part).length - 1;

/** An app with a late status from a timer: fatal only if the guard throws. Two requests, one after the other. */
const TIMER_APP = `
const http = require('node:http');
const express = require('express');
const app = express();
app.get('/bug', (req, res) => { res.send('first'); setTimeout(() => res.status(500), 5); }); // @defaults:timer:late
app.get('/ok', (req, res) => res.send('second'));
const server = http.createServer(app).listen(0, '127.0.0.1', async () => {
  const base = 'http://127.0.0.1:' + server.address().port;
  console.log('bug:', (await (await fetch(base + '/bug')).text()));
  await new Promise((resolve) => setTimeout(resolve, 50));
  console.log('ok:', (await (await fetch(base + '/ok')).text()));
  server.close();
});`;

describe('the preload in an app', () => {
  it('reports and keeps serving when NODE_ENV is not test (log mode by default)', () => {
    for (const nodeEnv of [undefined, 'production', 'development']) {
      const result = run(['--require', 'header-guard/register', '-e', TIMER_APP], { NODE_ENV: nodeEnv });
      assert.equal(result.status, 0, result.output);
      assert.match(result.stdout, /bug: first\nok: second/);
      assert.match(result.stderr, /res\.status\(500\) was called after the response headers were sent/);
    }
  });

  it('throws in a test run (NODE_ENV=test), and HEADER_GUARD_MODE says otherwise either way', () => {
    const strict = run(['--require', 'header-guard/register', '-e', TIMER_APP], { NODE_ENV: 'test' });
    assert.notEqual(strict.status, 0, strict.output);
    assert.match(strict.stderr, /HeaderGuardError: header-guard: /);
    assert.doesNotMatch(strict.stdout, /ok: second/);
    const asked = run(['--require', 'header-guard/register', '-e', TIMER_APP], { HEADER_GUARD_MODE: 'throw' });
    assert.notEqual(asked.status, 0, asked.output);
    const logged = run(['--require', 'header-guard/register', '-e', TIMER_APP], { NODE_ENV: 'test', HEADER_GUARD_MODE: 'log' });
    assert.equal(logged.status, 0, logged.output);
  });
});

describe('one print per violation', () => {
  it('the preload and the app\'s own headerGuard() print one report, not two', () => {
    const result = run(['--require', 'header-guard/register', SCENARIO, 'beside-middleware', 'express5'], { HEADER_GUARD_MODE: 'log' });
    assert.equal(result.status, 0, result.output);
    assert.equal(occurrences(result.stderr, markerSite(SCENARIO, 'scenario:beside:late')), 1, result.stderr);
    assert.equal(occurrences(result.stderr, 'res.status(500) was called after'), 1, result.stderr);
  });

  it('two headerGuard() on one app print once; each onViolation still gets its report', () => {
    const result = run(['-e', `
      const express = require('express');
      const { headerGuard } = require('header-guard');
      const hooks = [];
      const app = express();
      app.use(headerGuard());
      app.use(headerGuard());
      app.use(headerGuard({ onViolation: (v) => hooks.push('a:' + v.kind) }));
      app.use(headerGuard({ onViolation: (v) => hooks.push('b:' + v.kind) }));
      app.get('/', (req, res) => { res.send('x'); res.status(500); });
      const server = app.listen(0, '127.0.0.1', async () => {
        await (await fetch('http://127.0.0.1:' + server.address().port + '/')).text();
        console.log(hooks.join(' '));
        server.close();
      });`], {});
    assert.equal(result.status, 0, result.output);
    assert.equal(result.stdout.trim(), 'a:late-status b:late-status');
    assert.equal(occurrences(result.stderr, 'res.status(500) was called after'), 1, result.stderr);
  });
});

describe('the off switch', () => {
  const LATE = ['express', 'koa', 'fastify', 'plain', 'outgoing'];
  const answers = '200 express\n200 koa\n200 fastify\n200 plain\noutgoing: ERR_HTTP_HEADERS_SENT\n';

  it('on (the control): every entry point reports its late call, answers unchanged', () => {
    const result = run(['--require', 'header-guard/register', ENTRY_POINTS], { HEADER_GUARD_MODE: 'log' });
    assert.equal(result.status, 0, result.output);
    assert.equal(result.stdout, answers);
    for (const name of LATE) assert.ok(result.stderr.includes(markerSite(ENTRY_POINTS, `entry:${name}:late`)), `${name}: ${result.stderr}`);
  });

  for (const value of ['off', 'OFF', '0', 'false']) {
    it(`HEADER_GUARD=${value}: every entry point passes responses through untouched, said once`, () => {
      const result = run(['--require', 'header-guard/register', ENTRY_POINTS], { HEADER_GUARD: value, NODE_ENV: 'test' });
      assert.equal(result.status, 0, result.output);
      assert.equal(result.stdout, answers);
      assert.equal(result.stderr, `header-guard: off (HEADER_GUARD=${value}): every response passes through untouched.\n`);
    });
  }

  it('HEADER_GUARD=off turns off the runner entries too: the run is the run without the entry', () => {
    const test = join(__dirname, 'fixtures', 'runners', 'node-test.test.js');
    const counts = (tap: string) => tap.split('\n').filter((line) => /^# (pass|fail) \d+$/.test(line)).join(', ');
    const failures = (tap: string) => tap.split('\n').filter((line) => /^\s*not ok /.test(line)).join('\n');
    const entry = ['--test', '--import', 'header-guard/node-test', '--test-reporter=tap', test];
    const on = run(entry, { NODE_ENV: 'test' });
    const without = run(['--test', '--test-reporter=tap', test], { NODE_ENV: 'test' });
    const off = run(entry, { NODE_ENV: 'test', HEADER_GUARD: 'off' });
    assert.notEqual(counts(on.stdout), counts(without.stdout), 'the control: the entry changes which tests fail');
    assert.equal(counts(off.stdout), counts(without.stdout), off.stdout);
    assert.equal(failures(off.stdout), failures(without.stdout), off.stdout);
    assert.match(off.stdout, /header-guard: off \(HEADER_GUARD=off\)/);
  });

  it('enabled: false turns off one guard of each entry point (no preload)', () => {
    const on = run([ENTRY_POINTS], {});
    assert.equal(on.stdout, answers);
    for (const name of ['express', 'koa', 'fastify', 'outgoing']) assert.ok(on.stderr.includes(markerSite(ENTRY_POINTS, `entry:${name}:late`)), `${name}: ${on.stderr}`);
    const off = run([ENTRY_POINTS, 'enabled=false'], {});
    assert.equal(off.status, 0, off.output);
    assert.equal(off.stdout, answers);
    assert.equal(off.stderr, '');
  });

  it('rejects a value it does not know, naming it', () => {
    const result = run(['--require', 'header-guard/register', '-e', '0'], { HEADER_GUARD: 'disabled' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /HEADER_GUARD must be off, 0 or false \(guard nothing\) or on, 1 or true, got "disabled"/);
  });
});
