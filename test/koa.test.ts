// header-guard/koa on real Koa 3 apps over loopback: each late call the adapter reports, in log
// mode and in throw mode, naming the late line and the line that set the answer; and no report
// on correct apps (@koa/router, koa-body, koa-compress, streams, redirects, errors, raw answers).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type Koa from 'koa';
import { koaHeaderGuard } from '../src/adapters/koa.js';
import { HeaderGuardError, resetStats, stats, type Violation } from '../src/index.js';
import { collector, listen, markerSite, request, settle } from './helpers.js';
import { CORRECT_PATHS, FIXTURE, koaApp, type KoaFixture } from './fixtures/koa-app.js';

const ROOT = join(__dirname, '..');

interface Expected {
  kind: Violation['kind'];
  call: string;
  late?: string;
  firstCall: string;
  first: string;
}

const LATE: Record<string, Expected[]> = {
  '/late-status': [{ kind: 'late-status', call: 'ctx.status = 500', late: 'late-status:late', firstCall: 'ctx.body =', first: 'late-status:first' }],
  '/late-headers': [
    { kind: 'late-header', call: "ctx.set('X-Late')", late: 'late-headers:set', firstCall: 'ctx.body =', first: 'late-headers:first' },
    { kind: 'late-header', call: "ctx.append('X-Late')", firstCall: 'ctx.body =', first: 'late-headers:first' },
    { kind: 'late-header', call: "ctx.remove('X-Late')", firstCall: 'ctx.body =', first: 'late-headers:first' },
    { kind: 'late-header', call: 'ctx.type =', firstCall: 'ctx.body =', first: 'late-headers:first' },
  ],
  '/late-message': [{ kind: 'late-header', call: 'ctx.message =', late: 'late-message:late', firstCall: 'ctx.body =', first: 'late-message:first' }],
  '/late-body': [{ kind: 'double-send', call: 'ctx.body =', late: 'late-body:late', firstCall: 'ctx.body =', first: 'late-body:first' }],
  '/late-redirect': [{ kind: 'double-send', call: 'ctx.redirect()', late: 'late-redirect:late', firstCall: 'ctx.status = 202', first: 'late-redirect:first' }],
  '/raw-late-header': [{ kind: 'late-header', call: "res.setHeader('X-Raw')", late: 'raw-late-header:late', firstCall: 'ctx.body =', first: 'raw-late-header:first' }],
  '/raw-write-after-end': [{ kind: 'write-after-end', call: 'res.write()', late: 'raw-write-after-end:late', firstCall: 'ctx.body =', first: 'raw-write-after-end:first' }],
  '/mix': [{ kind: 'double-send', call: 'ctx.body =', late: 'mix:late', firstCall: 'res.write()', first: 'mix:first' }],
  '/mix-after': [{ kind: 'double-send', call: "Koa's respond() with ctx.body =", late: 'mix-after:late', firstCall: 'res.write()', first: 'mix-after:first' }],
  '/mix-default': [{ kind: 'double-send', call: "Koa's respond() with its default body", firstCall: 'res.write()', first: 'mix-default:first' }],
};

/**
 * Which of a server's requests a case is: its `first` is guarded from the middleware alone, the
 * `later` ones through the state slot reserved when they start (src/slot.ts), which is where
 * Koa's early `res.statusCode = 404` is held (src/patch/status-code.ts).
 */
type Turn = 'first' | 'later';

async function run(fixture: KoaFixture, path: string, options: Parameters<typeof request>[1] = {}, turn: Turn = 'first') {
  const server = await listen(fixture.app.callback());
  try {
    if (turn === 'later') assert.equal((await request(server.url + '/ok', { timeout: 2000 })).status, 200);
    const result = await request(server.url + path, { timeout: 2000, ...options });
    await settle(40);
    return result;
  } finally {
    await server.close();
  }
}

function checkReports(violations: Violation[], expected: Expected[]) {
  assert.deepEqual(violations.map((v) => `${v.kind} ${v.call}`), expected.map((e) => `${e.kind} ${e.call}`));
  violations.forEach((violation, index) => {
    const want = expected[index] as Expected;
    assert.ok(!violation.message.includes('secret-value'), 'no header value in the report');
    assert.ok(!/node_modules[\\/]koa[\\/]/.test(violation.message), `no Koa frame:\n${violation.message}`);
    assert.equal(violation.firstSentCall, want.firstCall, violation.message);
    assert.ok(violation.message.includes(markerSite(FIXTURE, want.first)), `first site ${want.first}:\n${violation.message}`);
    if (want.late !== undefined) assert.ok(violation.message.includes(markerSite(FIXTURE, want.late)), `late site ${want.late}:\n${violation.message}`);
    // Node's words only where Node throws them: Koa's own setters ignore a late call.
    if (violation.kind === 'late-header') assert.equal(violation.message.includes('(Node: "Cannot set headers'), violation.call.startsWith('res.'), violation.message);
  });
}

describe('koaHeaderGuard(), log mode', () => {
  for (const turn of ['first', 'later'] as const) {
    for (const [path, expected] of Object.entries(LATE)) {
      it(`reports ${path} on a ${turn} request: ${expected.map((e) => e.call).join(', ')}`, async () => {
        const { violations, onViolation } = collector();
        const fixture = koaApp(koaHeaderGuard({ onViolation }) as Koa.Middleware);
        await run(fixture, path, {}, turn);
        checkReports(violations, expected);
        assert.ok(!fixture.thrown.some((error) => error instanceof HeaderGuardError), 'log mode throws nothing of its own');
        assert.ok(!fixture.errors.some((error) => error instanceof HeaderGuardError));
      });
    }

    for (const path of CORRECT_PATHS) {
      it(`reports nothing on ${path} (${turn} request)`, async () => {
        const { violations, onViolation } = collector();
        const fixture = koaApp(koaHeaderGuard({ onViolation }) as Koa.Middleware);
        await run(fixture, path, { headers: { 'accept-encoding': 'gzip', referer: '/ok' } }, turn);
        await run(fixture, path, { method: 'HEAD' }, turn);
        assert.deepEqual(violations.map((v) => v.message), []);
        assert.deepEqual(fixture.thrown, []);
      });
    }
  }

  it('reports nothing on a koa-body POST', async () => {
    const { violations, onViolation } = collector();
    const fixture = koaApp(koaHeaderGuard({ onViolation }) as Koa.Middleware);
    const result = await run(fixture, '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.equal(result.body, '{"got":{"a":1}}');
    assert.deepEqual(violations, []);
  });

  it('counts in stats() and shadows each app once, leaving Koa and other apps alone', async () => {
    resetStats();
    const fixture = koaApp(koaHeaderGuard({ logger: { warn: () => undefined } }) as Koa.Middleware);
    await run(fixture, '/late-status');
    await run(fixture, '/late-status');
    assert.equal(stats().byKind['late-status'], 2);
    const own = Object.getOwnPropertyNames(fixture.app.response).sort();
    assert.deepEqual(own, ['append', 'attachment', 'body', 'etag', 'lastModified', 'length', 'message', 'redirect', 'remove', 'set', 'status', 'type', 'vary']);
    const bare = koaApp();
    assert.deepEqual(Object.getOwnPropertyNames(bare.app.response), []);
  });
});

describe('koaHeaderGuard(), throw mode', () => {
  for (const turn of ['first', 'later'] as const) {
    for (const [path, expected] of Object.entries(LATE)) {
      it(`throws or surfaces ${path} on a ${turn} request`, async () => {
        const { violations, onViolation } = collector();
        const fixture = koaApp(koaHeaderGuard({ mode: 'throw', onViolation }) as Koa.Middleware);
        await run(fixture, path, {}, turn);
        // In throw mode the first late call throws and does not run on, so later ones are not made.
        const surfaced = [...fixture.thrown, ...fixture.errors].filter((error) => error instanceof HeaderGuardError) as HeaderGuardError[];
        assert.equal(surfaced.length, path === '/late-headers' ? 4 : 1, String(surfaced.map((e) => e.message)));
        assert.equal(surfaced[0]?.violation.kind, expected[0]?.kind);
        checkReports(violations, expected);
      });
    }
  }

  it('a late ctx.body = that reaches Koa after a raw write still ends the response', async () => {
    const fixture = koaApp(koaHeaderGuard({ mode: 'throw', logger: { warn: () => undefined } }) as Koa.Middleware);
    const result = await run(fixture, '/mix-uncaught');
    assert.equal(result.error, undefined);
    assert.equal(result.body, 'raw;');
    const error = fixture.errors[0] as HeaderGuardError;
    assert.ok(error instanceof HeaderGuardError);
    assert.ok(error.stack?.includes(markerSite(FIXTURE, 'mix-uncaught:late')), error.stack);
  });

  for (const turn of ['first', 'later'] as const) {
    for (const path of CORRECT_PATHS) {
      it(`throws nothing on ${path} (${turn} request)`, async () => {
        const fixture = koaApp(koaHeaderGuard({ mode: 'throw' }) as Koa.Middleware);
        await run(fixture, path, { headers: { 'accept-encoding': 'gzip' } }, turn);
        assert.deepEqual(fixture.thrown, []);
        assert.ok(!fixture.errors.some((error) => error instanceof HeaderGuardError));
      });
    }
  }
});

describe('koaHeaderGuard(), throw mode: the guard\'s error Koa would only log', () => {
  // In a process of its own (test/fixtures/koa-throw.ts): the guard rethrows as an uncaught
  // exception, which here would fail whichever test is running.
  const THROW_FIXTURE = join(__dirname, 'fixtures', 'koa-throw.ts');
  const outcomes = (listener: 'own' | 'default', paths: string[]) => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', THROW_FIXTURE, listener, ...paths], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    return child.stdout.trim().split('\n').map((text) => JSON.parse(text) as { path: string; errors: string[]; surfaced: string[] });
  };
  const MIXES = ['/mix-uncaught', '/mix-after', '/mix-default'];

  it('is rethrown once the response is over when only Koa\'s default listens to the app\'s errors', () => {
    for (const outcome of outcomes('default', [...MIXES, '/ok', '/late-status'])) {
      const expected = MIXES.includes(outcome.path) ? ['HeaderGuardError double-send'] : [];
      // /late-status: the late call's error is caught by the app's own try/catch, which keeps it.
      assert.deepEqual([outcome.errors, outcome.surfaced], [[], expected], outcome.path);
    }
  });

  it("is the app's when it listens to its 'error' event itself (as an Express error handler keeps it)", () => {
    for (const outcome of outcomes('own', [...MIXES, '/ok'])) {
      const expected = MIXES.includes(outcome.path) ? ['HeaderGuardError double-send'] : [];
      assert.deepEqual([outcome.errors, outcome.surfaced], [expected, []], outcome.path);
    }
  });
});

describe('header-guard/koa with the preload and the testing helpers', () => {
  it("joins the preload's guard: the report names both lines, reaches getViolations() and stats() once", () => {
    const fixture = join(__dirname, 'fixtures', 'koa-preload.js');
    const env: NodeJS.ProcessEnv = { ...process.env, HEADER_GUARD_MODE: 'log' };
    delete env.NODE_TEST_CONTEXT;
    const child = spawnSync(process.execPath, ['--require', 'header-guard/register', fixture], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}'), { reports: ["late-header ctx.set('X-Late') ctx.body ="], total: 1 });
    assert.ok(!child.stderr.includes('secret-value'));
    assert.ok(child.stderr.includes(markerSite(fixture, 'preload:late')), child.stderr);
    assert.ok(child.stderr.includes(markerSite(fixture, 'preload:first')), child.stderr);
  });
});
