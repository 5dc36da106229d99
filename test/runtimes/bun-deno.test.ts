// The guard on Deno and Bun, the real binaries (paths in HEADER_GUARD_DENO and HEADER_GUARD_BUN;
// .ci/run fetches both from the npm registry; without them these tests are skipped). Deno runs
// the core scenarios, through the middleware and the register preload, and must report as Node
// does. Bun is refused (src/runtime.ts): the facts behind that are re-measured on every run, so
// a Bun that fixes them fails a test here, and the refusal itself must leave responses untouched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markerLine, markerSite } from '../helpers.js';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(__dirname, 'fixtures');
const CORE = join(FIXTURES, 'core.mjs');
const CHECK = join(FIXTURES, 'runtime-check.cjs');
const SCENARIO = join(ROOT, 'test', 'fixtures', 'register-scenario.js');
const WARNING = '[HEADER_GUARD_UNSUPPORTED_RUNTIME]';

/** The runtime binary named by the environment, or why its tests are skipped. */
function binary(variable: string): { path?: string; skip: string | false } {
  const path = process.env[variable];
  if (path === undefined || path === '') return { skip: `${variable} is not set (.ci/run sets it)` };
  assert.ok(existsSync(path), `${variable}=${path} does not exist`);
  return { path, skip: false };
}

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  delete childEnv.NODE_OPTIONS;
  if (!('HEADER_GUARD_MODE' in env)) delete childEnv.HEADER_GUARD_MODE;
  const child = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: childEnv });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr, output: `${child.stdout}${child.stderr}` };
}

const jsonLines = (stdout: string): unknown[] => stdout.trim().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as unknown);

interface CoreLine {
  name: string;
  client: string;
  reports: Array<{ kind: string; call: string; offending?: { file: string; line: number }; firstSent?: { file: string; line: number } }>;
}

/** Kind and client answer of each core scenario, as Node gives them. */
const CORE_EXPECTED: Record<string, { kind?: string; client: string }> = {
  clean: { client: '201 {"ok":true}' },
  'missing-return': { kind: 'double-send', client: '400 {"error":"id?"}' },
  'late-status': { kind: 'late-status', client: '200 {"ok":true}' },
  timer: { kind: 'late-header', client: '200 answered' },
  next: { kind: 'next-after-send', client: '200 {"ok":true}' },
};

function assertCoreScenarios(stdout: string): void {
  const lines = jsonLines(stdout) as CoreLine[];
  assert.deepEqual(lines.map((line) => line.name), Object.keys(CORE_EXPECTED), stdout);
  for (const line of lines) {
    const expected = CORE_EXPECTED[line.name];
    assert.ok(expected !== undefined);
    assert.equal(line.client, expected.client, line.name);
    if (expected.kind === undefined) {
      assert.deepEqual(line.reports, [], line.name);
      continue;
    }
    assert.equal(line.reports.length, 1, JSON.stringify(line));
    const [report] = line.reports;
    assert.equal(report?.kind, expected.kind, line.name);
    assert.deepEqual(report?.offending, { file: CORE, line: markerLine(CORE, `core:${line.name}:late`) }, `${line.name}: the late call`);
    assert.deepEqual(report?.firstSent, { file: CORE, line: markerLine(CORE, `core:${line.name}:first`) }, `${line.name}: the first send`);
  }
}

/** The register preload's scenarios that must fail the run, with the marker of the late call. */
const PRELOAD_FAILING: Array<[scenario: string, marker: string, first?: string]> = [
  ['swallowed-late-header', 'scenario:swallowed:late', 'scenario:swallowed:first'],
  ['timer', 'scenario:timer:late'],
  ['late-status', 'scenario:late-status:late'],
  ['next-after-send', 'scenario:next:late'],
];

describe('the refused-runtime fixture on Node (control: it sees a guard that is on)', () => {
  it('reports the three late calls and wraps the response methods', () => {
    const result = run(process.execPath, [join(FIXTURES, 'refused.cjs')]);
    assert.equal(result.status, 0, result.output);
    const [line] = jsonLines(result.stdout) as Array<{ reports: string[]; untouched: Record<string, boolean> }>;
    // The fixture mounts two guards: each gets every report.
    assert.deepEqual(line?.reports, ['double-send', 'double-send', 'late-status', 'late-status', 'next-after-send', 'next-after-send']);
    assert.ok(Object.values(line?.untouched ?? {}).every((untouched) => !untouched), result.stdout);
    assert.ok(!result.stderr.includes(WARNING), result.stderr);
  });
});

const deno = binary('HEADER_GUARD_DENO');
describe('Deno', { skip: deno.skip }, () => {
  const denoRun = (args: string[], env?: Record<string, string>) =>
    run(deno.path ?? 'deno', ['run', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', ...args], env);

  it('is supported: unsupportedRuntime() is undefined', () => {
    const result = denoRun([CHECK]);
    assert.equal(result.status, 0, result.output);
    assert.deepEqual(jsonLines(result.stdout), [{ unsupported: null }]);
  });

  it('the node:http facts the guard relies on hold (request-start channel, tail-call frames)', () => {
    const result = denoRun([join(FIXTURES, 'bun-facts.mjs')]);
    assert.equal(result.status, 0, result.output);
    assert.deepEqual(jsonLines(result.stdout), [{ channelFired: true, tailFrameKept: true }]);
  });

  it('middleware, imported as an ES module: the core scenarios name both sites', () => {
    const result = denoRun([CORE]);
    assert.equal(result.status, 0, result.output);
    assertCoreScenarios(result.stdout);
    assert.ok(!result.stderr.includes(WARNING), result.stderr);
  });

  for (const [scenario, marker, first] of PRELOAD_FAILING) {
    it(`--require header-guard/register fails the run: ${scenario}`, () => {
      const result = denoRun(['--require', './dist/register.js', SCENARIO, scenario, 'express5']);
      assert.notEqual(result.status, 0, result.output);
      assert.match(result.stderr, /HeaderGuardError: header-guard: /);
      assert.ok(result.stderr.includes(markerSite(SCENARIO, marker)), result.stderr);
      if (first !== undefined) assert.ok(result.stderr.includes(markerSite(SCENARIO, first)), result.stderr);
      assert.ok(!result.output.includes('token=secret'), 'no query string');
      // Deno quotes the source line of an uncaught error, and that line holds the header's value;
      // the report itself must not.
      const quoted = result.output.split('\n').filter((text) => text.includes('secret') && !text.includes("res.set('x-late', 'secret-value')"));
      assert.deepEqual(quoted, [], 'no header value');
    });
  }

  it('--preload header-guard/register (ESM) fails the run on a late status', () => {
    const result = denoRun(['--preload', './dist/register.mjs', SCENARIO, 'late-status', 'express5']);
    assert.notEqual(result.status, 0, result.output);
    assert.ok(result.stderr.includes(markerSite(SCENARIO, 'scenario:late-status:late')), result.stderr);
  });

  it('--require header-guard/register passes a clean app, printing nothing', () => {
    const result = denoRun(['--require', './dist/register.js', SCENARIO, 'clean', 'express5']);
    assert.equal(result.status, 0, result.output);
    assert.match(result.stdout, /client: 201 \{"ok":true\}/);
    assert.equal(result.stderr, '');
  });
});

const bun = binary('HEADER_GUARD_BUN');
describe('Bun', { skip: bun.skip }, () => {
  const bunRun = (args: string[], env?: Record<string, string>) => run(bun.path ?? 'bun', args, env);

  it('is refused: unsupportedRuntime() names Bun and its version', () => {
    const result = bunRun([CHECK]);
    assert.equal(result.status, 0, result.output);
    const [line] = jsonLines(result.stdout) as Array<{ unsupported: string | null }>;
    assert.match(line?.unsupported ?? '', /^header-guard does not support Bun \(\d+\.\d+\.\d+\): /);
  });

  it('the reasons still hold: no request-start channel, and tail calls drop the caller frame', () => {
    const result = bunRun([join(FIXTURES, 'bun-facts.mjs')]);
    assert.equal(result.status, 0, result.output);
    // If this fails, Bun changed: re-run the core scenarios on it and reconsider src/runtime.ts.
    assert.deepEqual(jsonLines(result.stdout), [{ channelFired: false, tailFrameKept: false }]);
  });

  it('headerGuard() says so once and leaves every response untouched', () => {
    const result = bunRun([join(FIXTURES, 'refused.cjs')]);
    assert.equal(result.status, 0, result.output);
    const [line] = jsonLines(result.stdout) as Array<{ reports: string[]; clients: string[]; untouched: Record<string, boolean> }>;
    assert.deepEqual(line?.reports, []);
    assert.deepEqual(line?.clients, ['400 {"error":"id?"}', '200 {"ok":true}', '200 {"ok":true}']);
    assert.ok(Object.values(line?.untouched ?? {}).every(Boolean), result.stdout);
    assert.equal(result.stderr.split(WARNING).length - 1, 1, result.stderr);
  });

  it('--preload header-guard/register says so once and guards nothing', () => {
    const result = bunRun(['--preload', './dist/register.js', SCENARIO, 'late-status', 'express5']);
    assert.equal(result.status, 0, result.output);
    assert.match(result.stdout, /client: 200 \{"ok":true\}/);
    assert.equal(result.stderr.split(WARNING).length - 1, 1, result.stderr);
    assert.ok(!result.stderr.includes('HeaderGuardError'), result.stderr);
  });
});
