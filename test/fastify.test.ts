// header-guard/fastify on real Fastify 5 apps, over loopback and through inject(): each
// violation kind in log and throw mode naming both user lines, none on correct apps (with
// @fastify/cors, @fastify/compress, @fastify/static), and log mode identical to the bare app
// (responses, Fastify's own logs, what the routes' calls threw).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { HeaderGuardError, type Violation } from '../src/index.js';
import { build, CORRECT_ROUTES, FIXTURE, LATE_ROUTES } from './fixtures/fastify-app.js';
import { collector, markerLine, markerSite, request, settle, type ClientResult } from './helpers.js';

/** Fastify's log lines, parsed, without what differs from run to run (times, ids, stacks that hold wrapper frames). */
function logSink(): { stream: Writable; lines: () => unknown[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const lines = (): unknown[] => chunks.join('').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT').split('\n').filter(Boolean).map((line) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    for (const key of ['time', 'pid', 'hostname', 'reqId', 'responseTime']) delete entry[key];
    const req = entry.req as Record<string, unknown> | undefined;
    if (req !== undefined) delete req.remotePort;
    const err = entry.err as Record<string, unknown> | undefined;
    if (err !== undefined) delete err.stack;
    return entry;
  });
  return { stream, lines };
}

/** The client's view of a response, without the Date header. */
function view(result: ClientResult): unknown {
  const headers = { ...result.headers };
  delete headers.date;
  return { status: result.status, headers, body: result.body };
}

async function serve(app: import('fastify').FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

const line = (name: string, which: 'first' | 'late'): number => markerLine(FIXTURE, `fx:${name}:${which}`);

describe('header-guard/fastify, log mode', () => {
  for (const transport of ['loopback', 'inject'] as const) {
    for (const [name, kind] of LATE_ROUTES) {
      it(`${transport}: /${name} is reported as ${kind}, naming both lines`, async () => {
        const { violations, onViolation } = collector();
        const { app } = await build({ onViolation, capture: 'always' });
        try {
          if (transport === 'inject') await app.inject(`/${name}`);
          else await request(`${await serve(app)}/${name}`);
          await settle(20);
        } finally {
          await app.close();
        }
        assert.equal(violations.length, 1, violations.map((v) => v.message).join('\n'));
        const violation = violations[0] as Violation;
        assert.equal(violation.kind, kind);
        assert.equal(violation.firstSent?.line, line(name, 'first'), violation.message);
        assert.ok(violation.firstSent?.file.endsWith('fastify-app.ts'));
        if (name === 'return') {
          assert.match(violation.message, /the handler returned a value after reply\.send\(\) answered/);
          assert.match(violation.message, /route: GET \/return \(Fastify\)/);
        } else {
          assert.ok('offending' in violation);
          assert.equal(violation.offending?.line, line(name, 'late'), violation.message);
        }
        assert.ok(!violation.message.includes('node_modules/fastify'), violation.message);
        assert.ok(!/['"]v['"]/.test(violation.message), 'no header values');
        // Node's words only where Node throws them: Fastify ignores a late reply.header() itself.
        if (kind === 'late-header') assert.equal(violation.message.includes('(Node: "Cannot set headers'), name === 'raw', violation.message);
      });
    }
  }

  it('names the calls as users write them', async () => {
    const { violations, onViolation } = collector();
    const { app } = await build({ onViolation });
    for (const name of ['double', 'code', 'status', 'header', 'headers', 'remove-header', 'redirect']) await app.inject(`/${name}`);
    await app.close();
    assert.deepEqual(violations.map((v) => v.call), [
      'reply.send()', 'reply.code(500)', 'reply.status(503)', "reply.header('x-late')", 'reply.headers({…})', "reply.removeHeader('content-type')", 'reply.redirect()',
    ]);
    assert.ok(violations.every((v) => v.firstSentCall === 'reply.send()'));
  });

  it('reports nothing on correct apps, plugins and hooks included', async () => {
    const { violations, onViolation } = collector();
    const { app } = await build({ onViolation, capture: 'always' });
    const url = await serve(app);
    try {
      for (const path of CORRECT_ROUTES) {
        const result = await request(`${url}${path}`, { headers: { 'accept-encoding': 'gzip', origin: 'http://example.test' } });
        assert.ok(result.status < 500, `${path}: ${result.status}`);
        await app.inject({ url: path, headers: { 'accept-encoding': 'gzip' } });
      }
      await settle(20);
    } finally {
      await app.close();
    }
    assert.deepEqual(violations.map((v) => v.message), []);
  });

  it('is identical to the bare app: responses, Fastify\'s logs, what the calls threw', async () => {
    const paths = [...LATE_ROUTES.map(([name]) => `/${name}`), ...CORRECT_ROUTES];
    const runs: Array<{ views: unknown[]; logs: unknown[]; thrown: unknown[] }> = [];
    for (const guarded of [false, true]) {
      const sink = logSink();
      const { app, thrown } = await build(guarded ? { onViolation: () => undefined } : false, sink.stream);
      const url = await serve(app);
      const views: unknown[] = [];
      try {
        for (const path of paths) {
          views.push(path, view(await request(`${url}${path}`, { headers: { 'accept-encoding': 'gzip', origin: 'http://example.test' } })));
          const injected = await app.inject({ url: path, headers: { 'accept-encoding': 'gzip' } });
          const headers = { ...injected.headers };
          delete headers.date;
          views.push({ status: injected.statusCode, headers, body: injected.body });
          await settle(10);
        }
      } finally {
        await app.close();
      }
      runs.push({ views, logs: sink.lines(), thrown: thrown.map((error) => [(error as Error).name, (error as { code?: unknown }).code, (error as Error).message]) });
    }
    const [bare, guarded] = runs as [typeof runs[0], typeof runs[0]];
    assert.deepEqual(guarded.views, bare.views);
    assert.deepEqual(guarded.thrown, bare.thrown);
    assert.deepEqual(guarded.logs, bare.logs);
    assert.ok(bare.logs.some((entry) => JSON.stringify(entry).includes('Reply was already sent')), 'Fastify warned in both');
  });
});

describe('header-guard/fastify, throw mode', () => {
  // Each route in test/fixtures/fastify-throw.ts, in a process of its own: what the guard
  // rethrows is an uncaught exception, which here would fail whichever test is running.
  interface Outcome {
    route: string;
    status: number;
    body: string;
    thrown: Array<{ name: string; code?: string; kind?: string }>;
    surfaced: Array<{ name: string; code?: string; kind?: string }>;
    sameError: boolean;
    violations: Array<{ kind: string; first?: number; late?: number }>;
  }
  const THROW_FIXTURE = join(__dirname, 'fixtures', 'fastify-throw.ts');
  const outcomes = new Map<string, Outcome>();
  before(() => {
    const routes = [...LATE_ROUTES.map(([name]) => name), 'caught', ...CORRECT_ROUTES.map((route) => route.slice(1))];
    const child = spawnSync(process.execPath, ['--import', 'tsx', THROW_FIXTURE, ...routes], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(child.status, 0, child.stderr);
    for (const text of child.stdout.trim().split('\n')) {
      const outcome = JSON.parse(text) as Outcome;
      outcomes.set(outcome.route, outcome);
    }
  });

  const CATCHABLE = LATE_ROUTES.filter(([name]) => !['return', 'throw', 'reject'].includes(name));
  for (const [name, kind] of CATCHABLE) {
    it(`/${name}: the late call throws a HeaderGuardError (${kind}), rethrown after Fastify swallows it`, () => {
      const outcome = outcomes.get(name) as Outcome;
      assert.equal(outcome.body, 'first', 'the client got the first answer');
      assert.deepEqual(outcome.thrown.map((error) => [error.name, error.kind]), [['HeaderGuardError', kind]]);
      // Fastify drops it (the reply is sent); the guard rethrows the same error once, after the response.
      assert.ok(outcome.sameError, JSON.stringify(outcome));
      assert.deepEqual(outcome.violations, [{ kind, first: line(name, 'first'), late: line(name, 'late') }]);
    });
  }

  for (const name of ['return', 'throw', 'reject']) {
    it(`/${name}: reported once and rethrown as a HeaderGuardError; the client keeps its answer`, () => {
      const outcome = outcomes.get(name) as Outcome;
      assert.equal(outcome.body, 'first');
      assert.deepEqual(outcome.thrown, []);
      const kind = name === 'return' ? 'double-send' : 'error-after-send';
      assert.deepEqual(outcome.surfaced.map((error) => [error.name, error.kind]), [['HeaderGuardError', kind]]);
      assert.equal(outcome.violations.length, 1, JSON.stringify(outcome.violations));
      assert.equal(outcome.violations[0]?.first, line(name, 'first'));
      // A return has no call site (the report's offending site is '<unknown>', line 0); a throw
      // and a rejection name the error's own line.
      assert.equal(outcome.violations[0]?.late, name === 'return' ? 0 : line(name, 'late'));
    });
  }

  it('a late call whose error the route catches itself is reported, and stays caught', () => {
    const outcome = outcomes.get('caught') as Outcome;
    assert.equal(outcome.body, 'first');
    assert.deepEqual(outcome.surfaced, []);
    assert.deepEqual(outcome.violations, [{ kind: 'late-status', first: line('caught', 'first'), late: line('caught', 'late') }]);
  });

  it('correct routes throw nothing and rethrow nothing', () => {
    for (const route of CORRECT_ROUTES) {
      const outcome = outcomes.get(route.slice(1)) as Outcome;
      assert.deepEqual([outcome.thrown, outcome.surfaced, outcome.violations], [[], [], []], route);
    }
  });

  it('a late call that nothing catches fails the process, naming both lines', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', THROW_FIXTURE, '--crash', 'double'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 1, child.stderr);
    assert.match(child.stderr, /HeaderGuardError: header-guard: reply\.send\(\) was called after the response was already sent/);
    assert.ok(child.stderr.includes(markerSite(FIXTURE, 'fx:double:late')), child.stderr);
    assert.ok(child.stderr.includes(markerSite(FIXTURE, 'fx:double:first')), child.stderr);
  });

  it('a bad option fails register() with ERR_HEADER_GUARD_INVALID_OPTION', async () => {
    await assert.rejects(build({ mode: 'loud' as 'log' }), (error: NodeJS.ErrnoException) => error.code === 'ERR_HEADER_GUARD_INVALID_OPTION');
  });
});
