// header-guard/register in real processes: it fails a run on any late call (thrown, swallowed by
// Express, in a timer or a promise, silent ones too) and leaves alone what an app handles on
// purpose. The test runner entries and examples/testing run in test/runners.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markerSite } from './helpers.js';

const ROOT = join(__dirname, '..');
const SCENARIO = join(__dirname, 'fixtures', 'register-scenario.js');

function run(args: string[], env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT; // let the child be a test run of its own
  if (!('HEADER_GUARD_MODE' in env)) delete childEnv.HEADER_GUARD_MODE;
  const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 60000, env: childEnv });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr, output: child.stdout + child.stderr };
}

const CODES: Record<string, string> = {
  'late-header': 'ERR_HTTP_HEADERS_SENT',
  'late-status': 'ERR_HEADER_GUARD_LATE_STATUS',
  'next-after-send': 'ERR_HEADER_GUARD_NEXT_AFTER_SEND',
  'error-after-send': 'ERR_HEADER_GUARD_ERROR_AFTER_SEND',
};

const scenario = (name: string, version: string, env?: Record<string, string>) =>
  run(['--require', 'header-guard/register', SCENARIO, name, version], env);

const FAILING: Array<[scenario: string, kind: string, marker: string]> = [
  ['swallowed-late-header', 'late-header', 'scenario:swallowed:late'],
  ['timer', 'late-header', 'scenario:timer:late'],
  ['promise', 'late-status', 'scenario:promise:late'],
  ['late-status', 'late-status', 'scenario:late-status:late'],
  ['next-after-send', 'next-after-send', 'scenario:next:late'],
  ['error-after-send', 'error-after-send', 'scenario:error:late'],
];

for (const version of ['express4', 'express5']) {
  describe(`register (throw mode), ${version}`, () => {
    for (const [name, kind, marker] of FAILING) {
      it(`fails the run: ${name}`, () => {
        const result = scenario(name, version);
        assert.notEqual(result.status, 0, result.output);
        assert.match(result.stderr, /HeaderGuardError: header-guard: /);
        assert.ok(result.stderr.includes(markerSite(SCENARIO, marker)), result.stderr);
        assert.ok(result.stderr.includes('request: GET / (route /)'), result.stderr);
        assert.ok(!result.output.includes('secret'), 'no query string or header value');
        assert.ok(result.stderr.includes(`[${CODES[kind]}]`), result.stderr);
      });
    }

    it('passes a clean app', () => {
      const result = scenario('clean', version);
      assert.equal(result.status, 0, result.output);
      assert.match(result.stdout, /client: 201 \{"ok":true\}/);
      assert.equal(result.stderr, '');
    });

    it('leaves alone an error the app handles on purpose (Express\'s own OPTIONS test)', () => {
      const result = scenario('handled-on-purpose', version);
      assert.equal(result.status, 0, result.output);
      assert.match(result.stdout, /client: 200 true/);
      assert.equal(result.stderr, '');
    });

    it('leaves alone an error after the response that the app\'s error handler keeps', () => {
      const result = scenario('error-handled', version);
      assert.equal(result.status, 0, result.output);
      assert.equal(result.stderr, '');
    });

    it('HEADER_GUARD_LOG_ONLY logs those kinds instead of failing', () => {
      const result = scenario('next-after-send', version, { HEADER_GUARD_LOG_ONLY: 'next-after-send' });
      assert.equal(result.status, 0, result.output);
      assert.match(result.stderr, /^header-guard: next\(\) was called after the response was sent/m);
    });

    it('HEADER_GUARD_MODE=log reports and keeps going', () => {
      const result = scenario('swallowed-late-header', version, { HEADER_GUARD_MODE: 'log' });
      assert.equal(result.status, 0, result.output);
      assert.match(result.stdout, /client: 200 answered/);
      assert.ok(result.stderr.includes(markerSite(SCENARIO, 'scenario:swallowed:late')), result.stderr);
      assert.ok(result.stderr.includes(markerSite(SCENARIO, 'scenario:swallowed:first')), result.stderr);
    });
  });
}

describe('register, other cases', () => {
  it('fails the run on an Express 5 async handler that throws after answering', () => {
    const result = scenario('async-throw', 'express5');
    assert.notEqual(result.status, 0, result.output);
    assert.ok(result.stderr.includes(markerSite(SCENARIO, 'scenario:async:late')), result.stderr);
    assert.match(result.stderr, /an error reached Express after the response was sent \(Error: async throw after answering\)/);
  });

  it('keeps the preload\'s guard on every request when the app mounts the middleware too', () => {
    const result = scenario('beside-middleware', 'express5');
    assert.notEqual(result.status, 0, result.output);
    assert.equal(result.stdout.match(/^client: 20[01] /gm)?.length, 3, result.stdout);
    assert.match(result.stderr, /HeaderGuardError: header-guard: /);
    assert.ok(result.stderr.includes(markerSite(SCENARIO, 'scenario:beside:late')), result.stderr);
  });

  it('guards plain node:http servers too', () => {
    const result = scenario('plain-http', 'express5');
    assert.notEqual(result.status, 0, result.output);
    assert.ok(result.stderr.includes(markerSite(SCENARIO, 'scenario:plain:late')), result.stderr);
  });

  it('rejects a bad HEADER_GUARD_MODE with a clear message', () => {
    const result = scenario('clean', 'express5', { HEADER_GUARD_MODE: 'strict' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /HEADER_GUARD_MODE must be 'throw' or 'log', got "strict"/);
  });

  it('reads HEADER_GUARD_MODE whatever its case and spaces; empty means the default', () => {
    const log = scenario('swallowed-late-header', 'express5', { HEADER_GUARD_MODE: ' LOG ' });
    assert.equal(log.status, 0, log.output);
    assert.ok(log.stderr.includes(markerSite(SCENARIO, 'scenario:swallowed:late')), log.stderr);
    const empty = scenario('late-status', 'express5', { HEADER_GUARD_MODE: '' });
    assert.notEqual(empty.status, 0, 'empty is the default, throw');
    assert.match(empty.stderr, /HeaderGuardError: header-guard: /);
  });

  it('log mode: a late header from a timer is reported, then kills the process as it does without the guard', () => {
    const result = scenario('timer', 'express5', { HEADER_GUARD_MODE: 'log' });
    assert.notEqual(result.status, 0, result.output);
    const report = result.stderr.indexOf(markerSite(SCENARIO, 'scenario:timer:late'));
    const crash = result.stderr.indexOf('Error [ERR_HTTP_HEADERS_SENT]: Cannot set headers');
    assert.ok(report !== -1 && crash !== -1 && report < crash, result.stderr);
  });

  it('HEADER_GUARD_CONTAIN=1: the same late header is reported and the process goes on', () => {
    const result = scenario('timer', 'express5', { HEADER_GUARD_MODE: 'log', HEADER_GUARD_CONTAIN: '1' });
    assert.equal(result.status, 0, result.output);
    assert.ok(result.stderr.includes(markerSite(SCENARIO, 'scenario:timer:late')), result.stderr);
    assert.doesNotMatch(result.stderr, /Error \[ERR_HTTP_HEADERS_SENT\]/);
  });

  it('guards a server response no listening server created (adopted at its first guarded call)', () => {
    const result = run(['--require', 'header-guard/register', '-e', `
      const http = require('node:http');
      const net = require('node:net');
      const req = new http.IncomingMessage(new net.Socket());
      req.method = 'GET';
      req.url = '/made-by-hand?token=secret';
      const res = new http.ServerResponse(req);
      res.end('answered'); // first
      res.statusCode = 500; // late
    `], { HEADER_GUARD_MODE: 'log' });
    assert.equal(result.status, 0, result.output);
    assert.match(result.stderr, /res\.statusCode = 500 was called after the response headers were sent/);
    assert.match(result.stderr, /request: GET \/made-by-hand\n/);
    assert.ok(!result.stderr.includes('secret'), result.stderr);
  });

  it('rejects a bad HEADER_GUARD_CONTAIN', () => {
    const result = scenario('clean', 'express5', { HEADER_GUARD_CONTAIN: 'yes please' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /HEADER_GUARD_CONTAIN must be 1, true, 0 or false, got "yes please"/);
  });

  it('rejects an unknown kind in HEADER_GUARD_LOG_ONLY', () => {
    const result = scenario('clean', 'express5', { HEADER_GUARD_LOG_ONLY: 'next-after-sned' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /HEADER_GUARD_LOG_ONLY lists an unknown kind "next-after-sned"/);
  });
});
