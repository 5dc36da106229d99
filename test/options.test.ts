// Bad options fail fast with a TypeError naming the option; Node's and Express's own validation
// errors pass through unchanged; odd arguments behave as they do without the guard; reporting
// goes to the logger or stderr and a failing hook never breaks a response.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Request, Response } from 'express';
import { ErrorCodes, headerGuard, type HeaderGuardOptions } from '../src/index.js';
import { Guard } from '../src/guard.js';
import { resolveOptions } from '../src/options.js';
import { EXPRESS_VERSIONS, collector, requestApp, settle } from './helpers.js';

describe('options', () => {
  const bad: Array<[unknown, RegExp]> = [
    [null, /options object, got null/],
    ['throw', /options object, got string "throw"/],
    [[], /options object, got an array/],
    [{ mode: 'strict' }, /option "mode" must be 'log' or 'throw', got string "strict"/],
    [{ onViolation: 'log' }, /option "onViolation" must be a function/],
    [{ logger: {} }, /option "logger" must have a warn\(message\) method/],
    [{ logger: { warn() {}, error: 1 } }, /option "logger" has an "error" that is not a function/],
    [{ mdoe: 'throw' }, /unknown option "mdoe"\. Did you mean "mode"\?/],
    [{ frame: 5 }, /unknown option "frame"\. Did you mean "frames"\?/],
    [{ includevalues: true }, /unknown option "includevalues"\. Did you mean "includeValues"\?/],
    [{ dedupeWindow: 10 }, /unknown option "dedupeWindow"\. Did you mean "dedupeWindowMs"\?/],
    [{ verbose: true }, /unknown option "verbose"\. Known options: enabled, mode, contain, /],
    [{ enabled: 'no' }, /option "enabled" must be true or false, got string "no"/],
  ];
  for (const [options, message] of bad) {
    it(`rejects ${JSON.stringify(options)} when headerGuard() is called`, () => {
      assert.throws(() => headerGuard(options as HeaderGuardOptions), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.equal((error as TypeError & { code: string }).code, ErrorCodes.INVALID_OPTION);
        assert.match((error as Error).message, message);
        return true;
      });
    });
  }

  it('accepts no options, and console as a logger', () => {
    assert.equal(typeof headerGuard(), 'function');
    assert.equal(typeof headerGuard({ mode: 'throw', logger: console, onViolation: () => undefined }), 'function');
  });

  /** The defaults resolved under a NODE_ENV. */
  function defaultsUnder(env: string | undefined) {
    const previous = process.env.NODE_ENV;
    if (env === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = env;
    try {
      return resolveOptions(undefined);
    } finally {
      process.env.NODE_ENV = previous;
    }
  }

  it('defaults by NODE_ENV, as the README options table and docs/production.md say', () => {
    const production = defaultsUnder('production');
    assert.deepEqual([production.mode, production.contain, production.capture, production.dedupeWindowMs, production.hangTimeoutMs, production.codeFrame], ['log', false, 'adaptive', 60_000, 0, false]);
    const development = defaultsUnder(undefined);
    assert.deepEqual([development.mode, development.contain, development.capture, development.dedupeWindowMs, development.hangTimeoutMs], ['log', false, 'always', 0, 30_000]);
    assert.deepEqual([development.frames, development.includeValues, development.trackHeaders, development.lint, development.enabled], [3, false, false, false, true]);
  });

  it('hangTimeoutMs: 0 means no hang watch at all, not the default', () => {
    assert.equal(resolveOptions({ hangTimeoutMs: 0 }).hangTimeoutMs, 0);
    assert.equal(new Guard(resolveOptions({ hangTimeoutMs: 0 })).hangWatch, undefined);
    assert.notEqual(new Guard(resolveOptions({ hangTimeoutMs: 50 })).hangWatch, undefined);
  });
});

/** Run one handler behind the guard and without it; return what it threw and what the client saw. */
async function both(express: (typeof EXPRESS_VERSIONS)[number][1], handler: (req: Request, res: Response) => void) {
  const outcomes = [];
  for (const guarded of [false, true]) {
    const { violations, onViolation } = collector();
    const thrown: Array<{ name: string; code?: string; message: string }> = [];
    const app = express();
    if (guarded) app.use(headerGuard({ mode: 'throw', onViolation }));
    app.get('/', (req, res) => {
      try {
        handler(req, res);
      } catch (error) {
        const { name, message, code } = error as Error & { code?: string };
        thrown.push({ name, message, code });
        if (!res.headersSent) res.status(500).end('caught');
      }
    });
    const result = await requestApp(app, '/');
    await settle(10);
    delete result.headers.date;
    outcomes.push({ thrown, violations: violations.map((v) => v.kind), status: result.status, body: result.body, headers: result.headers });
  }
  return outcomes as [(typeof outcomes)[0], (typeof outcomes)[0]];
}

for (const [version, express] of EXPRESS_VERSIONS) {
  describe(`${version}: bad input passes through to Node and Express unchanged`, () => {
    const cases: Array<[string, (req: Request, res: Response) => void]> = [
      ['invalid header name', (req, res) => void res.setHeader('bad header', 'x')],
      ['invalid header value', (req, res) => void res.setHeader('x-bad', 'a\nb')],
      ['invalid status code to writeHead', (req, res) => void res.writeHead(1000).end()],
      ['status(99) then send', (req, res) => void res.status(99).send('x')],
      ['status("200") then send', (req, res) => void res.status('200' as unknown as number).send('x')],
      ['setHeader() without arguments', (req, res) => void (res.setHeader as unknown as () => void)()],
      ['json with a cycle, then a real answer', (req, res) => {
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        res.json(cycle);
      }],
      ['sendFile with a relative path', (req, res) => void res.sendFile('relative.txt')],
      ['end with a callback only', (req, res) => void res.end(() => undefined)],
      ['empty writes', (req, res) => { res.write(''); res.end(''); }],
    ];
    for (const [name, handler] of cases) {
      it(name, async () => {
        const [bare, guarded] = await both(express, handler);
        assert.deepEqual(guarded.violations, []);
        assert.deepEqual(guarded, bare);
      });
    }

    it('a failed body call (JSON cycle) leaves the response open for the error answer', async () => {
      const [, guarded] = await both(express, (req, res) => {
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        res.json(cycle);
      });
      assert.equal(guarded.status, 500);
      assert.equal(guarded.body, 'caught');
      assert.deepEqual(guarded.violations, []);
    });
  });
}

describe('reporting', () => {
  const [, express] = EXPRESS_VERSIONS[1]!;
  const lateApp = (options: HeaderGuardOptions) => {
    const app = express();
    app.use(headerGuard(options));
    app.get('/', (req, res) => {
      res.send('ok');
      res.status(500);
    });
    return app;
  };

  it('logs to logger.warn when no onViolation is given', async () => {
    const warned: string[] = [];
    const result = await requestApp(lateApp({ logger: { warn: (m: string) => warned.push(m) } }), '/');
    assert.equal(result.body, 'ok');
    assert.equal(warned.length, 1);
    assert.match(warned[0]!, /^header-guard: res\.status\(500\) was called after the response headers were sent/);
  });

  it('writes no log line of its own when onViolation is given', async () => {
    const warned: string[] = [];
    const { violations, onViolation } = collector();
    await requestApp(lateApp({ onViolation, logger: { warn: (m: string) => warned.push(m) } }), '/');
    assert.equal(violations.length, 1);
    assert.deepEqual(warned, []);
  });

  it('an onViolation that throws is logged once, and responses go on', async () => {
    const errors: string[] = [];
    const app = lateApp({ onViolation: () => { throw new Error('hook broke'); }, logger: { warn: () => undefined, error: (m: string) => errors.push(m) } });
    const first = await requestApp(app, '/');
    const second = await requestApp(app, '/');
    assert.equal(first.body, 'ok');
    assert.equal(second.body, 'ok');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /onViolation threw \(Error: hook broke\)/);
  });

  it('a logger that throws never breaks the response', async () => {
    const result = await requestApp(lateApp({ logger: { warn: () => { throw new Error('logger down'); } } }), '/');
    assert.equal(result.status, 200);
    assert.equal(result.body, 'ok');
  });

  it('writes to stderr by default', () => {
    const script = `
      const express = require('express');
      const { headerGuard } = require('./src/index.ts');
      const app = express();
      app.use(headerGuard());
      app.get('/', (req, res) => { res.send('ok'); res.set('x-late', 'v'); });
      const server = app.listen(0, '127.0.0.1', async () => {
        await fetch('http://127.0.0.1:' + server.address().port + '/');
        server.close();
      });`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 20000 });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stderr, /^header-guard: res\.set\('x-late'\) was called after the response headers were sent/m);
    assert.match(child.stderr, /late call: res\.set\('x-late'\)\n/);
    assert.match(child.stderr, /sent and ended by res\.send\(\)/);
  });
});
