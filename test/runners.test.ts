// The runner entries in real runs: each example project of examples/testing (node:test, mocha,
// vitest, jest, NestJS) and the fixtures of test/fixtures/runners run in a child process with a
// machine-readable reporter (TAP or JSON). Asserted: exactly which tests failed, by name, that the
// others passed, that each failure names both sites, and that each report is printed once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..');
const bin = (pkg: string, file: string) => join(ROOT, 'node_modules', pkg, file);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run node with these arguments in `cwd`, as a test run of its own. */
function run(args: string[], cwd = ROOT): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_TEST_CONTEXT;
  delete env.HEADER_GUARD_MODE;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Test results by name: which passed, which failed (with the failure text). */
interface Results {
  passed: string[];
  failed: Map<string, string>;
}

/** node:test's TAP: `ok N - name` / `not ok N - name`, each failure with its YAML block. Suites and files are left out. */
function fromTap(tap: string, suites: string[]): Results {
  const results: Results = { passed: [], failed: new Map() };
  const lines = tap.split('\n');
  lines.forEach((line, index) => {
    const match = /^(\s*)(ok|not ok) \d+ - (.*?)(?: # .*)?$/.exec(line);
    if (match === null || suites.includes(match[3] as string)) return;
    const [, indent = '', verdict, name = ''] = match;
    if (verdict === 'ok') return void results.passed.push(name);
    const block: string[] = [];
    for (const next of lines.slice(index + 1)) {
      if (!next.startsWith(`${indent}  `)) break;
      block.push(next);
    }
    results.failed.set(name, block.join('\n'));
  });
  return results;
}

/** mocha's JSON reporter. */
function fromMocha(json: string): Results {
  const report = JSON.parse(json) as { passes: Array<{ title: string }>; failures: Array<{ title: string; err: { message: string } }> };
  return { passed: report.passes.map((test) => test.title), failed: new Map(report.failures.map((test) => [test.title, test.err.message])) };
}

/** jest's and vitest's JSON (the same shape). */
function fromJestJson(json: string): Results {
  const report = JSON.parse(json) as { testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }> };
  const results: Results = { passed: [], failed: new Map() };
  for (const file of report.testResults) {
    for (const test of file.assertionResults) {
      if (test.status === 'passed') results.passed.push(test.title);
      else results.failed.set(test.title, test.failureMessages.join('\n'));
    }
  }
  return results;
}

/** `file:line:` of the first line of `file` (relative to `base`) that contains `text`. */
function site(file: string, text: string, base = ROOT): string {
  const line = readFileSync(join(base, file), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
  assert.ok(line > 0, `${text} in ${file}`);
  return `${file}:${line}:`;
}

const count = (text: string, part: string) => text.split(part).length - 1;

/**
 * Exactly `failing` failed, each naming its sites (its report once in its failure); exactly
 * `passing` passed; and `output`, what a reader sees (the whole TAP, or a JSON runner's other
 * stream), holds each report `times` times: once more than the failure, never a second copy.
 */
function assertResults(results: Results, output: string, failing: Record<string, string[]>, passing: string[], times = 1): void {
  assert.deepEqual([...results.failed.keys()].sort(), Object.keys(failing).sort(), output);
  assert.deepEqual([...results.passed].sort(), [...passing].sort(), output);
  for (const [name, sites] of Object.entries(failing)) {
    const failure = results.failed.get(name) ?? '';
    for (const part of sites) assert.ok(failure.includes(part), `${name} names ${part}:\n${failure}`);
    assert.equal(count(failure, sites[0] as string), 1, `the failure holds the report naming ${sites[0]} once:\n${failure}`);
    assert.equal(count(output, sites[0] as string), times, `the report naming ${sites[0]} is printed ${times} time(s):\n${output}`);
  }
}

const APP = 'examples/testing/app.js';
const USERS_ABC = [site(APP, 'res.json({ id: Number'), site(APP, 'res.status(400)')];
const ORDERS_NEXT = [site(APP, 'next(); // answered already'), site(APP, 'res.status(201)')];

describe('examples/testing: one buggy test among clean ones, per runner', () => {
  it('node:test (--import header-guard/node-test)', async () => {
    const dir = 'examples/testing/node-test';
    const result = await run(['--test', '--import', 'header-guard/node-test', '--test-reporter=tap', `${dir}/orders.test.js`, `${dir}/users.test.mjs`, `${dir}/helpers.test.js`]);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assertResults(fromTap(result.stdout, []), result.stdout + result.stderr, { 'POST /orders answers 201': ORDERS_NEXT }, [
      'GET /health answers ok', 'GET /users/7 answers the user', 'GET /users/12 answers the user', 'GET /health answers ok (ESM)',
      'GET /health has no late calls', 'the missing return on GET /users/abc is detected', 'next() after answering on POST /orders is detected',
    ]);
  });

  it('mocha (--require header-guard/mocha): the run goes on to the next file', async () => {
    const result = await run([bin('mocha', 'bin/mocha.js'), '--config', 'examples/testing/mocha/.mocharc.js', '--reporter', 'json']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    // The JSON reporter lists the error's message, stack and violations: only stderr is checked for copies.
    assertResults(fromMocha(result.stdout), result.stderr, { 'GET /users/abc answers 400': USERS_ABC }, [
      'GET /users/7 answers the user', 'GET /users/12 answers the user', 'GET /health answers ok',
    ], 0);
  });

  it('vitest (setupFiles: header-guard/vitest)', async () => {
    const result = await run([bin('vitest', 'vitest.mjs'), 'run', '--config', 'examples/testing/vitest/vitest.config.mjs', '--reporter=json']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assertResults(fromJestJson(result.stdout), result.stderr, { 'GET /users/abc answers 400': USERS_ABC }, [
      'GET /health answers ok', 'GET /users/7 answers the user', 'GET /users/12 answers the user',
    ], 0);
  });

  it('jest (setupFilesAfterEnv: header-guard/jest)', async () => {
    const result = await run([bin('jest', 'bin/jest.js'), '--config', 'examples/testing/jest/jest.config.js', '--json']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    // --json writes the results to stdout and jest's usual report, with the report once, to stderr.
    assertResults(fromJestJson(result.stdout), result.stderr, { 'POST /orders answers 201': ORDERS_NEXT }, [
      'GET /health answers ok', 'GET /users/7 answers the user', 'GET /users/12 answers the user',
    ]);
  });

  it('NestJS (testing module + supertest): an exception filter that answers twice fails its test', async () => {
    const cwd = join(ROOT, 'examples/testing/nestjs');
    const result = await run(['--enable-source-maps', '--import', 'tsx', '--import', 'header-guard/node-test', '--test', '--test-reporter=tap', 'test/orders.test.mts'], cwd);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    const filterLine = readFileSync(join(cwd, 'src/all-exceptions.filter.mts'), 'utf8').split('\n').find((l) => l.includes('res.status(500)')) ?? '';
    // The filter's second answer, res.json(), at its own column (the report names its res.status(500) too).
    const filter = `${site('src/all-exceptions.filter.mts', 'res.status(500)', cwd)}${filterLine.indexOf('.json(') + 2}`;
    const handler = site('src/orders.controller.mts', 'res.json(', cwd);
    assertResults(fromTap(result.stdout, ['orders (NestJS)']), result.stdout + result.stderr, { 'GET /orders/7/receipt answers the receipt': [filter, handler] }, [
      'GET /orders/7 answers the order', 'POST /orders answers 201',
    ]);
    assert.match(result.stdout, /earlier in the same statement, also late: res\.status\(500\) at src\/all-exceptions\.filter\.mts:\d+:\d+ \(the client got status 200 and never sees 500\)/);
  });
});

const FIXTURES = 'test/fixtures/runners';
const F_APP = `${FIXTURES}/app.js`;
const marker = (name: string) => site(F_APP, `// @runners:${name}:late`);
const LATE_PASSING = ['clean passes', 'timer passes: its late header comes after it ended', 'clean again passes'];

/** The fixture's failures: swallowed ones, and the timer of the test before, each with its late site. */
function fixtureFailures(prefix: string): Record<string, string[]> {
  return {
    'caught fails: a try/catch around res.json()': [marker('caught'), 'res.json() was called after the response was already sent'],
    'ignored fails: an error handler that returns once the headers are out': [marker('ignored'), 'an error reached Express after the response was sent'],
    // res.status(500).send('error') is one statement: one report, a double send naming the late status too.
    'answer500 fails: an error handler that answers 500': [marker('answer500'), 'res.send() was called after the response was already sent', 'earlier in the same statement, also late: res.status(500)'],
    'next fails: the timer of the test before fires during it': [marker('timer'), `after "${prefix}timer passes: its late header comes after it ended" ended`],
  };
}

describe('swallowed and late violations, per runner (test/fixtures/runners)', () => {
  it('node:test: a late call after the last test fails the file', async () => {
    const result = await run(['--test', '--import', 'header-guard/node-test', '--test-reporter=tap', `${FIXTURES}/node-test.test.js`]);
    assert.equal(result.status, 1);
    const results = fromTap(result.stdout, ['runner cases']);
    assert.deepEqual([...results.failed.keys()].sort(), Object.keys(fixtureFailures('')).sort(), result.stdout);
    assert.deepEqual(results.passed.sort(), [...LATE_PASSING, 'last timer passes: its late header comes after the run'].sort());
    for (const [name, parts] of Object.entries(fixtureFailures(''))) for (const part of parts) assert.ok(results.failed.get(name)?.includes(part), `${name}: ${part}`);
    assert.match(result.stdout + result.stderr, /header-guard: after "last timer passes: its late header comes after the run" ended: header-guard: res\.setHeader\('x-late'\)/);
  });

  it('node:test: a run whose only violation comes after its last test fails', async () => {
    const result = await run(['--test', '--import', 'header-guard/node-test', '--test-reporter=tap', `${FIXTURES}/node-test-exit.test.js`]);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.deepEqual(fromTap(result.stdout, []).passed, ['last timer passes: its late header comes after the run']);
    assert.match(result.stdout + result.stderr, /header-guard: after "last timer passes: its late header comes after the run" ended: header-guard: res\.setHeader\('x-late'\)/);
    assert.equal(count(result.stdout + result.stderr, marker('timer')), 1);
  });

  it('mocha: the failures land on their tests, the next file runs, a late call after the run fails it', async () => {
    const result = await run([bin('mocha', 'bin/mocha.js'), '--require', './dist/runners/mocha.js', '--reporter', 'json', `${FIXTURES}/mocha.spec.js`, `${FIXTURES}/mocha-next.spec.js`]);
    assert.equal(result.status, 1);
    const results = fromMocha(result.stdout);
    assert.deepEqual([...results.failed.keys()].sort(), Object.keys(fixtureFailures('runner cases ')).sort());
    assert.deepEqual(results.passed.sort(), [...LATE_PASSING, 'last timer passes: its late header comes after the run', 'next file passes'].sort());
    for (const [name, parts] of Object.entries(fixtureFailures('runner cases '))) for (const part of parts) assert.ok(results.failed.get(name)?.includes(part), `${name}: ${part}`);
    assert.match(result.stderr, /^header-guard: after "runner cases last timer passes: its late header comes after the run" ended/m);
  });

  it('vitest', async () => {
    const result = await run([bin('vitest', 'vitest.mjs'), 'run', '--config', `${FIXTURES}/vitest.config.mjs`, '--reporter=json']);
    assert.equal(result.status, 1);
    const results = fromJestJson(result.stdout);
    assert.deepEqual([...results.failed.keys()].sort(), Object.keys(fixtureFailures('')).sort());
    assert.deepEqual(results.passed.sort(), [...LATE_PASSING].sort());
    for (const [name, parts] of Object.entries(fixtureFailures(''))) for (const part of parts) assert.ok(results.failed.get(name)?.includes(part), `${name}: ${part}`);
  });

  it('jest', async () => {
    const result = await run([bin('jest', 'bin/jest.js'), '--config', `${FIXTURES}/jest.config.js`, '--json']);
    assert.equal(result.status, 1);
    const results = fromJestJson(result.stdout);
    assert.deepEqual([...results.failed.keys()].sort(), Object.keys(fixtureFailures('runner cases ')).sort());
    assert.deepEqual(results.passed.sort(), [...LATE_PASSING].sort());
    for (const [name, parts] of Object.entries(fixtureFailures('runner cases '))) for (const part of parts) assert.ok(results.failed.get(name)?.includes(part), `${name}: ${part}`);
  });

  it('mocha older than 8 (no root hook plugins) is refused at start-up, naming the minimum', async () => {
    // mocha 7.1.2, installed as `mocha7`: without the check it would ignore the entry's hooks and pass.
    const result = await run([bin('mocha7', 'bin/mocha'), '--require', './dist/runners/mocha.js', `${FIXTURES}/mocha-next.spec.js`]);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    const output = result.stdout + result.stderr;
    assert.match(output, /header-guard\/mocha needs mocha 8 or later/);
    assert.match(output, /This run uses mocha 7\.1\.2 \(node_modules\/mocha7\)/);
    assert.match(output, /\[ERR_HEADER_GUARD_RUNNER_VERSION\]/);
    assert.ok(!output.includes('passing'), 'no test ran');
  });
});
