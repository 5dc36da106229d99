// header-guard/register in real processes: it fails a run on any late call (thrown, swallowed by
// Express, in a timer or a promise, silent ones too), leaves alone what an app handles on purpose,
// and works with node:test and mocha, CommonJS and ESM. The examples in examples/testing run here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markerSite } from './helpers.js';

const ROOT = join(__dirname, '..');
const SCENARIO = join(__dirname, 'fixtures', 'register-scenario.js');
const APP = join(ROOT, 'examples', 'testing', 'app.js');

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

  it('rejects an unknown kind in HEADER_GUARD_LOG_ONLY', () => {
    const result = scenario('clean', 'express5', { HEADER_GUARD_LOG_ONLY: 'next-after-sned' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /HEADER_GUARD_LOG_ONLY lists an unknown kind "next-after-sned"/);
  });
});

describe('examples/testing', () => {
  const appLine = (text: string) => `examples/testing/app.js:${readFileSync(APP, 'utf8').split('\n').findIndex((line) => line.includes(text)) + 1}:`;
  const assertBothSites = (output: string) => {
    assert.ok(output.includes(appLine("res.json({ id: Number")), output);
    assert.ok(output.includes(appLine('res.status(400)')), output);
  };

  // node:test's default reporter is TAP up to Node 22 and `spec` from Node 23 on: name the
  // reporter so that the counts below read the same on every line.
  const nodeTest = (preload: '--require' | '--import', file: string, env?: Record<string, string>) =>
    run([preload, 'header-guard/register', '--test', '--test-reporter=tap', file], env);

  it('node:test, CommonJS: the clean suite passes', () => {
    const result = nodeTest('--require', 'examples/testing/node-test/clean.test.js');
    assert.equal(result.status, 0, result.output);
    assert.match(result.stdout, /^# pass 2$/m);
    assert.match(result.stdout, /^# fail 0$/m);
  });

  it('node:test, CommonJS: the buggy suite fails, naming both sites', () => {
    const result = nodeTest('--require', 'examples/testing/node-test/buggy.test.js');
    assert.notEqual(result.status, 0);
    assertBothSites(result.output);
    assert.ok(result.output.includes(appLine('next(); // answered already')), result.output);
  });

  it('node:test, ESM: the buggy suite fails, naming both sites', () => {
    const result = nodeTest('--import', 'examples/testing/node-test/buggy.test.mjs');
    assert.notEqual(result.status, 0);
    assertBothSites(result.output);
  });

  it('node:test with header-guard/testing in log mode passes', () => {
    const result = nodeTest('--require', 'examples/testing/node-test/helpers.test.js', { HEADER_GUARD_MODE: 'log' });
    assert.equal(result.status, 0, result.output);
    assert.match(result.stdout, /^# pass 3$/m);
    assert.match(result.stdout, /^# fail 0$/m);
  });

  const mocha = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
  // Mocha resolves --require from its own folder; in an app, `header-guard/register` is in
  // node_modules and resolves as is. Here, in the package's own repository, give the built file.
  const MOCHA_REGISTER = './dist/register.js';
  it('mocha: the clean suite passes', () => {
    const result = run([mocha, '--require', MOCHA_REGISTER, 'examples/testing/mocha/clean.spec.js']);
    assert.equal(result.status, 0, result.output);
    assert.match(result.stdout, /2 passing/);
  });

  it('mocha: the buggy suite fails, naming both sites', () => {
    const result = run([mocha, '--require', MOCHA_REGISTER, 'examples/testing/mocha/buggy.spec.js']);
    assert.notEqual(result.status, 0);
    assertBothSites(result.output);
  });
});
