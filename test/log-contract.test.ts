// Log mode only observes: for each case that once broke that promise, the same app with and
// without the guard, compared on what the client and the app see; and each bug listed with the
// contract, fixed, with its own regression test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { NextFunction, Request, Response } from 'express';
import { headerGuard, type HeaderGuardOptions, type Violation } from '../src/index.js';
import { EXPRESS_VERSIONS, collector, listen, request, settle, waitFor, type ClientResult, type ExpressModule } from './helpers.js';
import { STATIC_FILE } from './fixtures/buggy-app.js';

const ROOT = join(__dirname, '..');

/** What the app saw: each step's outcome, in order. */
type Seen = string[];

/** An error as the app sees it: its class, code and message. */
function describeError(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name} ${String((error as { code?: unknown }).code)} ${error.message}` : String(error);
}

/** A route's handler, given a `see` to record what each step returned or threw. */
type Handler = (req: Request, res: Response, next: NextFunction, see: (what: string) => void) => void;

interface Case {
  name: string;
  handler: Handler;
  /** An error handler that answers, for the cases where one is the point. */
  errorHandler?: boolean;
  /** The kind the guard must report. */
  kind: Violation['kind'];
}

/** Run `call`, recording its outcome: 'ok' or the error it threw. */
function step(see: (what: string) => void, label: string, call: () => unknown): void {
  try {
    call();
    see(`${label}: ok`);
  } catch (error) {
    see(`${label}: threw ${describeError(error)}`);
  }
}

const CASES: Case[] = [
  {
    name: 'an error handler answers after streaming began (the README FAQ case)',
    kind: 'double-send',
    errorHandler: true,
    handler: (req, res, next) => {
      res.write('partial');
      next(new Error('failed midway'));
    },
  },
  {
    name: 'res.writeHead(200); res.send()',
    kind: 'double-send',
    handler: (req, res, next, see) => {
      res.writeHead(200);
      step(see, 'send', () => res.send('x'));
      res.end();
    },
  },
  {
    name: 'res.write(); res.setHeader()',
    kind: 'late-header',
    handler: (req, res, next, see) => {
      res.write('a');
      step(see, 'setHeader', () => res.setHeader('x-late', '1'));
      res.end();
    },
  },
  {
    name: 'res.write(); res.send() with no body ends the response',
    kind: 'double-send',
    handler: (req, res, next, see) => {
      res.write('a');
      step(see, 'send', () => res.send());
    },
  },
  {
    name: 'a late res.sendFile(path, cb) calls its callback',
    kind: 'double-send',
    handler: (req, res, next, see) => {
      res.send('first');
      // Which error (headers already sent, or the request aborted) is a race inside send and
      // on-finished, with or without the guard; that it is called, with an error, is not.
      res.sendFile(STATIC_FILE, (error) => see(`sendFile callback: ${error instanceof Error ? 'an error' : String(error)}`));
    },
  },
  {
    name: 'res.sendFile(x); res.send(y): y wins, as without the guard',
    kind: 'double-send',
    handler: (req, res, next, see) => {
      res.sendFile(STATIC_FILE, (error) => see(`sendFile callback: ${error === undefined ? 'none' : describeError(error)}`));
      step(see, 'send', () => res.send('y'));
    },
  },
  {
    name: 'write and end callbacks after the end get ERR_STREAM_WRITE_AFTER_END',
    kind: 'write-after-end',
    handler: (req, res, next, see) => {
      res.on('error', (error) => see(`error event: ${describeError(error)}`));
      res.end('done');
      res.write('more', (error) => see(`write callback: ${describeError(error)}`));
      res.end('again', () => see('end callback'));
    },
  },
  {
    name: 'res.status(500) after the answer still changes statusCode, as Node does',
    kind: 'late-status',
    handler: (req, res, next, see) => {
      res.send('ok');
      res.status(500);
      see(`statusCode: ${res.statusCode}`);
    },
  },
];

/** An app with every case as a route, with or without the guard. */
function appFor(express: ExpressModule, options: HeaderGuardOptions | undefined, seen: Map<string, Seen>) {
  const app = express();
  if (options !== undefined) app.use(headerGuard(options));
  CASES.forEach((c, index) => {
    const see = (what: string) => seen.get(`/${index}`)?.push(what);
    app.get(`/${index}`, (req, res, next) => c.handler(req, res, next, see));
  });
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    seen.get(req.path)?.push(`error handler: ${describeError(error)}`);
    const c = CASES[Number(req.path.slice(1))];
    if (c?.errorHandler === true) {
      try {
        res.status(500).json({ error: 'failed' });
      } catch (thrown) {
        next(thrown);
      }
      return;
    }
    next(error);
  });
  return app;
}

/** The client's view, comparable across runs. */
function comparable(result: ClientResult): ClientResult {
  const headers = { ...result.headers };
  delete headers.date;
  return { ...result, headers };
}

for (const [version, express] of EXPRESS_VERSIONS) {
  describe(`${version}: log mode is identical to no guard`, () => {
    for (const [index, c] of CASES.entries()) {
      it(c.name, async () => {
        const { violations, onViolation } = collector();
        const guardedSeen = new Map<string, Seen>([[`/${index}`, []]]);
        const bareSeen = new Map<string, Seen>([[`/${index}`, []]]);
        const guarded = await listen(appFor(express, { onViolation }, guardedSeen));
        const bare = await listen(appFor(express, undefined, bareSeen));
        try {
          const started = Date.now();
          const got = await request(`${guarded.url}/${index}`, { timeout: 3000 });
          assert.ok(Date.now() - started < 2000, 'the guard never turns an aborted or complete response into a hung one');
          const expected = await request(`${bare.url}/${index}`, { timeout: 3000 });
          await settle(50);
          assert.deepEqual(comparable(got), comparable(expected));
          assert.deepEqual(guardedSeen.get(`/${index}`), bareSeen.get(`/${index}`));
          assert.ok(violations.some((v) => v.kind === c.kind), `a ${c.kind} report; got ${violations.map((v) => v.kind).join(', ')}`);
        } finally {
          await guarded.close();
          await bare.close();
        }
      });
    }
  });
}

describe('regressions of the log-mode contract', () => {
  it('a late call whose Node error reaches the router is reported once, not again as error-after-send', async () => {
    const { violations, onViolation } = collector();
    const [, express] = EXPRESS_VERSIONS[1]!;
    const app = express();
    app.use(headerGuard({ onViolation }));
    app.get('/', (req, res) => {
      res.send('a');
      res.set('x-late', '1');
    });
    app.use((error: unknown, req: Request, res: Response, next: NextFunction) => void next);
    const server = await listen(app);
    try {
      await request(server.url);
      await settle();
      assert.deepEqual(violations.map((v) => v.kind), ['late-header']);
    } finally {
      await server.close();
    }
  });

  it('a late status is compared with the status the client got: setting it back is no violation', async () => {
    const { violations, onViolation } = collector();
    const [, express] = EXPRESS_VERSIONS[1]!;
    const app = express();
    app.use(headerGuard({ onViolation }));
    app.get('/', (req, res) => {
      res.status(201).send('created');
      res.status(500); // late: the client got 201
      res.status(201); // back to what the client got: changes nothing it sees
    });
    const server = await listen(app);
    try {
      const got = await request(server.url);
      await settle();
      assert.equal(got.status, 201);
      assert.deepEqual(violations.map((v) => v.call), ['res.status(500)']);
      assert.match(violations[0]!.message, /the client got status 201 and never sees 500/);
    } finally {
      await server.close();
    }
  });

  it('a late res.statusCode = 500 inside a res.format() callback is reported', async () => {
    const { violations, onViolation } = collector();
    const [, express] = EXPRESS_VERSIONS[1]!;
    const app = express();
    app.use(headerGuard({ onViolation }));
    app.get('/', (req, res) => {
      res.format({
        default: () => {
          res.send('answered');
          res.statusCode = 500; // late, and inside format's callback
        },
      });
    });
    const server = await listen(app);
    try {
      const got = await request(server.url);
      await settle();
      assert.equal(got.status, 200);
      assert.deepEqual(violations.map((v) => v.kind), ['late-status']);
      assert.equal(violations[0]!.call, 'res.statusCode = 500');
    } finally {
      await server.close();
    }
  });

  it('after a client abort, a second send names the first send as first, and says the response had ended', async () => {
    const { violations, onViolation } = collector();
    const [, express] = EXPRESS_VERSIONS[1]!;
    const app = express();
    app.use(headerGuard({ onViolation }));
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    app.get('/', (req, res) => {
      req.socket.once('close', () => {
        res.send('a'); // @abort:first
        res.json({ b: 1 }); // @abort:late
        done();
      });
    });
    const server = await listen(app);
    try {
      const req = http.get(server.url);
      req.on('error', () => undefined);
      await settle(50);
      req.destroy();
      await finished;
      await settle();
      assert.equal(violations.length, 1);
      const violation = violations[0]!;
      assert.equal(violation.kind, 'double-send');
      assert.equal(violation.call, 'res.json()');
      assert.equal(violation.firstSentCall, 'res.send()');
      assert.doesNotMatch(violation.message, /still sending/);
      assert.match(violation.message, /after the response was already sent by res\.send\(\)/);
    } finally {
      await server.close();
    }
  });

  it('a logger whose warn() throws: the report goes to stderr once, with what the logger threw', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      const express = require('express');
      const { headerGuard } = require(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      const app = express();
      app.use(headerGuard({ logger: { warn() { throw new Error('logger down'); } } }));
      app.get('/', (req, res) => { res.send('a'); res.status(500); });
      const server = app.listen(0, '127.0.0.1', async () => {
        for (let i = 0; i < 3; i++) await fetch('http://127.0.0.1:' + server.address().port + '/').then((r) => r.text());
        server.close();
      });
    `], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stderr.match(/the logger's warn\(\) threw \(Error: logger down\); this is reported once/g)?.length, 1, child.stderr);
    assert.match(child.stderr, /res\.status\(500\) was called after the response headers were sent/);
  });

  it('a read-only Error.stackTraceLimit: correct responses are untouched, and late calls still reported', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      const express = require('express');
      const { headerGuard } = require(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      // As Object.freeze(Error) does, after the libraries that set Error.prepareStackTrace at load (depd) have loaded.
      Object.defineProperty(Error, 'stackTraceLimit', { writable: false });
      const app = express();
      const kinds = [];
      app.use(headerGuard({ capture: 'always', onViolation: (v) => kinds.push(v.kind) }));
      app.get('/ok', (req, res) => res.json({ ok: true }));
      app.get('/late', (req, res) => { res.send('a'); res.status(500); });
      const server = app.listen(0, '127.0.0.1', async () => {
        const base = 'http://127.0.0.1:' + server.address().port;
        const ok = await fetch(base + '/ok').then((r) => r.text());
        await fetch(base + '/late').then((r) => r.text());
        console.log(JSON.stringify({ ok, kinds }));
        server.close();
      });
    `], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim()), { ok: '{"ok":true}', kinds: ['late-status'] });
  });

  it('a non-string req.url on a hot route under adaptive capture: the same 404 as without the guard', async () => {
    const { violations, onViolation } = collector();
    const build = (options: HeaderGuardOptions | undefined) => {
      const app = EXPRESS_VERSIONS[0]![1]();
      if (options !== undefined) app.use(headerGuard(options));
      app.get('/hot', (req, res) => {
        res.send('a');
        res.status(500);
      });
      app.get('/odd', (req, res, next) => {
        (req as { url: unknown }).url = 42; // a middleware that leaves a non-string behind
        next();
      });
      return app;
    };
    const guarded = await listen(build({ capture: 'adaptive', onViolation }));
    const bare = await listen(build(undefined));
    try {
      await request(`${guarded.url}/hot`);
      assert.equal(violations.length, 1, 'the route is hot now');
      const got = await request(`${guarded.url}/odd`);
      const expected = await request(`${bare.url}/odd`);
      assert.equal(got.status, expected.status);
      assert.equal(got.body, expected.body);
      assert.equal(got.error, undefined);
    } finally {
      await guarded.close();
      await bare.close();
    }
  });

  it("Express 4's depd deprecations name the user's lines, each call site once, as without the guard", () => {
    const script = (guarded: boolean) => `
      const express = require('express4');
      const { headerGuard } = require(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      const app = express();
      ${guarded ? 'app.use(headerGuard());' : ''}
      app.get('/a', (req, res) => res.send(200, 'a')); // deprecated: res.send(status, body)
      app.get('/b', (req, res) => res.send(201, 'b')); // the same deprecation, another site
      const server = app.listen(0, '127.0.0.1', async () => {
        const base = 'http://127.0.0.1:' + server.address().port;
        await fetch(base + '/a').then((r) => r.text());
        await fetch(base + '/b').then((r) => r.text());
        server.close();
      });
    `;
    const run = (guarded: boolean) => spawnSync(process.execPath, ['--import', 'tsx', '-e', script(guarded)], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_ENV: 'development' } });
    const bare = run(false);
    const guarded = run(true);
    assert.equal(guarded.status, 0, guarded.stderr);
    const deprecations = (stderr: string) => stderr.split('\n').filter((line) => line.includes('express deprecated')).map((line) => line.replace(/^.*?express deprecated/, 'express deprecated'));
    assert.equal(deprecations(bare.stderr).length, 2, bare.stderr);
    assert.deepEqual(deprecations(guarded.stderr), deprecations(bare.stderr));
  });

  it('the report of a late header from a timer is written before Node throws and the process dies', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      const http = require('node:http');
      const { headerGuard } = require(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      const guard = headerGuard();
      const server = http.createServer((req, res) => guard(req, res, () => {
        res.end('hello');
        setTimeout(() => res.setHeader('x-late', '1'), 5);
      }));
      server.listen(0, '127.0.0.1', () => fetch('http://127.0.0.1:' + server.address().port + '/').then((r) => r.text()));
    `], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(child.status, 0, 'Node kills the process, as it does without the guard');
    const report = child.stderr.indexOf("late call: res.setHeader('x-late')");
    const crash = child.stderr.indexOf('ERR_HTTP_HEADERS_SENT]: Cannot set headers');
    assert.ok(report !== -1 && crash !== -1 && report < crash, child.stderr);
    // Node's own banner above the error names its own throw, as without the guard.
    assert.match(child.stderr.slice(report), /\n(node:)?_http_outgoing:\d+\n\s+throw new ERR_HTTP_HEADERS_SENT/);
  });
});

describe('containment (contain: true)', () => {
  /** A plain node:http server whose handler is `handler`, guarded with contain, or bare. */
  async function contained(handler: http.RequestListener, guarded: boolean) {
    const { violations, onViolation } = collector();
    const guard = headerGuard({ contain: true, onViolation });
    const server = await listen((req, res) => (guarded ? guard(req, res, () => handler(req, res)) : handler(req, res)));
    try {
      return { result: await request(server.url, { timeout: 3000 }), violations };
    } finally {
      await server.close();
    }
  }

  it('a late call the app catches, then ends the response: the client gets the whole answer, as without the guard', async () => {
    const handler: http.RequestListener = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      try {
        res.writeHead(500); // late, caught by the app
      } catch {
        // the app's own try/catch
      }
      res.end('complete');
    };
    const bare = await contained(handler, false);
    const { result, violations } = await contained(handler, true);
    assert.equal(result.error, undefined);
    assert.equal(result.body, bare.result.body);
    assert.equal(result.status, 200);
    assert.deepEqual(violations.map((v) => v.kind), ['late-header']);
  });

  it('a late header from a timer on an unended response: not thrown, and the connection is cut, never hung', async () => {
    const { result, violations } = await contained((req, res) => {
      res.writeHead(200);
      res.write('partial');
      setTimeout(() => res.setHeader('x-late', '1'), 5); // would kill the process without contain
    }, true);
    assert.ok(result.error !== undefined, 'the client sees a cut response');
    assert.equal(result.body, 'partial');
    assert.deepEqual(violations.map((v) => v.kind), ['late-header']);
  });

  it('a write after end: the callback gets Node\'s error, and no listener is needed for the error event', async () => {
    const seen: string[] = [];
    const { result, violations } = await contained((req, res) => {
      res.end('done');
      res.write('more', (error) => seen.push(String((error as { code?: unknown } | null | undefined)?.code)));
    }, true);
    await settle(30);
    assert.equal(result.body, 'done');
    assert.deepEqual(seen, ['ERR_STREAM_WRITE_AFTER_END']);
    assert.deepEqual(violations.map((v) => v.kind), ['write-after-end']);
  });
});

describe('several guards on one response', () => {
  it("a sub-app's own guard joins the app's: each gets the report, with its own options", async () => {
    const outer = collector();
    const inner = collector();
    const [, express] = EXPRESS_VERSIONS[1]!;
    const app = express();
    app.use(headerGuard({ onViolation: outer.onViolation }));
    const sub = express();
    sub.use(headerGuard({ onViolation: inner.onViolation, frames: 1 }));
    sub.get('/late', (req, res) => {
      res.send('ok');
      res.status(404);
    });
    app.use('/sub', sub);
    const server = await listen(app);
    try {
      await request(`${server.url}/sub/late`);
      await waitFor(() => outer.violations.length > 0 && inner.violations.length > 0, 1000, 'both reports');
      assert.equal(outer.violations.length, 1);
      assert.equal(inner.violations.length, 1);
      assert.equal(outer.violations[0]!.kind, 'late-status');
      assert.equal(inner.violations[0]!.kind, 'late-status');
      assert.equal(inner.violations[0]!.offendingStack.length, 1, "the sub-app guard's frames option");
    } finally {
      await server.close();
    }
  });

  it('a correct 404 under two guards is no violation, and the status the client got is the one reported', async () => {
    const { violations, onViolation } = collector();
    const [, express] = EXPRESS_VERSIONS[1]!;
    const app = express();
    app.use(headerGuard({ onViolation }));
    app.use(headerGuard({ onViolation }));
    app.get('/missing', (req, res) => {
      res.status(404).send('no');
      res.status(200);
    });
    const server = await listen(app);
    try {
      const got = await request(`${server.url}/missing`);
      await settle();
      assert.equal(got.status, 404);
      assert.equal(violations.length, 2, 'one report per guard');
      for (const violation of violations) assert.match(violation.message, /the client got status 404 and never sees 200/);
    } finally {
      await server.close();
    }
  });
});

describe('two copies of header-guard in one process', () => {
  it('a second copy of the same protocol shares the first one\'s engine: one report per guard, correct statuses', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      const first = require(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      for (const key of Object.keys(require.cache)) if (key.includes('/src/')) delete require.cache[key];
      const second = require(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      if (first.headerGuard === second.headerGuard) throw new Error('not a second copy');
      const express = require('express');
      const reports = [];
      const app = express();
      app.use(first.headerGuard({ onViolation: (v) => reports.push('first ' + v.kind + ' ' + v.statusCode) }));
      app.use(second.headerGuard({ onViolation: (v) => reports.push('second ' + v.kind + ' ' + v.statusCode) }));
      app.get('/404', (req, res) => res.status(404).send('no'));
      app.get('/late', (req, res) => { res.status(404).send('no'); res.status(500); });
      const server = app.listen(0, '127.0.0.1', async () => {
        const base = 'http://127.0.0.1:' + server.address().port;
        const status = (await fetch(base + '/404')).status;
        await fetch(base + '/late').then((r) => r.text());
        console.log(JSON.stringify({ status, reports, total: second.stats().total }));
        server.close();
      });
    `], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim()), { status: 404, reports: ['first late-status 404', 'second late-status 404'], total: 1 });
  });

  it("the Koa middleware and the Fastify plugin of a second copy are the first copy's: one report each, counted once", () => {
    // A real second copy: the built package under another path (its adapters must not be found
    // by path from the first copy's engine, which loads its own adapters lazily).
    const copy = mkdtempSync(join(tmpdir(), 'header-guard-copy-'));
    try {
      cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
      const child = spawnSync(process.execPath, ['-e', `
        const first = { koa: require(${JSON.stringify(join(ROOT, 'dist/adapters/koa.js'))}) };
        const second = { index: require(${JSON.stringify(join(copy, 'dist/index.js'))}), koa: require(${JSON.stringify(join(copy, 'dist/adapters/koa.js'))}), fastify: require(${JSON.stringify(join(copy, 'dist/adapters/fastify.js'))}) };
        if (first.koa.koaHeaderGuard === second.koa.koaHeaderGuard) throw new Error('not a second copy');
        const reports = [];
        const Koa = require('koa');
        const koa = new Koa();
        koa.use(second.koa.koaHeaderGuard({ onViolation: (v) => reports.push('koa ' + v.kind + ' ' + v.call) }));
        koa.use((ctx) => { ctx.body = 'first'; ctx.res.on('finish', () => { ctx.status = 500; }); });
        const fastify = require('fastify')();
        fastify.register(second.fastify.headerGuardPlugin, { onViolation: (v) => reports.push('fastify ' + v.kind + ' ' + v.call) });
        fastify.register(async (app) => app.get('/', (request, reply) => { reply.send('first'); reply.code(500); }));
        const server = koa.listen(0, '127.0.0.1', async () => {
          const koaBody = await fetch('http://127.0.0.1:' + server.address().port + '/').then((r) => r.text());
          const fastifyBody = (await fastify.inject('/')).body;
          await new Promise((resolve) => setTimeout(resolve, 20));
          const loaded = Object.keys(require.cache).filter((file) => file.includes('/adapters/')).map((file) => (file.startsWith(${JSON.stringify(copy)}) ? 'copy ' : 'first ') + file.split('/').pop()).sort();
          console.log(JSON.stringify({ koaBody, fastifyBody, reports, total: second.index.stats().total, loaded }));
          server.close();
        });
      `], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      assert.equal(child.status, 0, child.stderr);
      assert.deepEqual(JSON.parse(child.stdout.trim()), {
        koaBody: 'first',
        fastifyBody: 'first',
        reports: ['koa late-status ctx.status = 500', 'fastify late-status reply.code(500)'],
        // Counted by the first copy's engine, which the second copy's stats() reads.
        total: 2,
        // The first copy's engine served both from its own adapters.
        loaded: ['copy fastify-reply.js', 'copy fastify.js', 'copy koa-response.js', 'copy koa.js', 'first fastify-reply.js', 'first fastify.js', 'first koa-response.js', 'first koa.js'],
      });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a copy of another protocol says so once and guards nothing', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      const diagnosticsChannel = require('node:diagnostics_channel');
      const other = { protocol: 0, version: '0.0.1', headerGuard: () => (req, res, next) => next() };
      Object.defineProperty(diagnosticsChannel.channel('header-guard:engine'), Symbol.for('header-guard.engine'), { value: other });
      const { headerGuard } = require(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      const express = require('express');
      const reports = [];
      const app = express();
      app.use(headerGuard({ onViolation: (v) => reports.push(v.kind) }));
      app.use(headerGuard({ onViolation: (v) => reports.push(v.kind) }));
      app.get('/late', (req, res) => { res.send('a'); res.status(500); });
      const server = app.listen(0, '127.0.0.1', async () => {
        const body = await fetch('http://127.0.0.1:' + server.address().port + '/late').then((r) => r.text());
        console.log(JSON.stringify({ body, reports }));
        server.close();
      });
    `], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim()), { body: 'a', reports: [] });
    assert.equal(child.stderr.match(/another copy of header-guard \(0\.0\.1, internal protocol 0\) already guards this process/g)?.length, 1, child.stderr);
  });

  it('the Koa middleware and the Fastify plugin of a copy of another protocol guard nothing, and still check their options', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      const diagnosticsChannel = require('node:diagnostics_channel');
      const other = { protocol: 0, version: '0.0.1', headerGuard: () => (req, res, next) => next() };
      Object.defineProperty(diagnosticsChannel.channel('header-guard:engine'), Symbol.for('header-guard.engine'), { value: other });
      const { koaHeaderGuard } = require(${JSON.stringify(join(ROOT, 'src/adapters/koa.ts'))});
      const { headerGuardPlugin } = require(${JSON.stringify(join(ROOT, 'src/adapters/fastify.ts'))});
      const reports = [];
      let badOption = '';
      try { koaHeaderGuard({ mode: 'loud' }); } catch (error) { badOption = error.code; }
      const Koa = require('koa');
      const koa = new Koa();
      koa.use(koaHeaderGuard({ onViolation: (v) => reports.push(v.kind) }));
      koa.use((ctx) => { ctx.body = 'first'; ctx.res.on('finish', () => { ctx.status = 500; }); });
      const fastify = require('fastify')();
      fastify.register(headerGuardPlugin, { onViolation: (v) => reports.push(v.kind) });
      fastify.register(async (app) => app.get('/', (request, reply) => { reply.send('first'); reply.code(500); }));
      const server = koa.listen(0, '127.0.0.1', async () => {
        const koaBody = await fetch('http://127.0.0.1:' + server.address().port + '/').then((r) => r.text());
        const fastifyBody = (await fastify.inject('/')).body;
        await new Promise((resolve) => setTimeout(resolve, 20));
        console.log(JSON.stringify({ koaBody, fastifyBody, reports, badOption, guardedReply: Object.getOwnPropertySymbols(koa.response).length }));
        server.close();
      });
    `], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim()), { koaBody: 'first', fastifyBody: 'first', reports: [], badOption: 'ERR_HEADER_GUARD_INVALID_OPTION', guardedReply: 0 });
    assert.equal(child.stderr.match(/another copy of header-guard \(0\.0\.1, internal protocol 0\) already guards this process/g)?.length, 1, child.stderr);
  });
});
