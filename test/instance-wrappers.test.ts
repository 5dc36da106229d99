// Late calls through functions a framework assigns to one response over a guarded method
// (patch/instance.ts): Next.js's `setHeader`, which drops a late call before Node sees it,
// compression's `end`, which drops a second end, a wrapper that passes the call on to Node.
// Each late call is reported once, at the user's line, and otherwise behaves exactly as without
// the guard: same return value, same throw, same drop, same bytes for the client.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import compression from 'compression';
import express from 'express';
import { HeaderGuardError, headerGuard, type HeaderGuardOptions } from '../src/index.js';
import { collector, markerSite, requestApp, settle } from './helpers.js';

/** Next.js's per-response setHeader (next/dist/server/lib/patch-set-header.js), as it behaves. */
function dropLateHeaders(res: http.ServerResponse): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name: string, value: number | string | readonly string[]) => {
    if (res.headersSent) return res;
    return setHeader(name, value);
  };
}

/** What a handler saw from its late call: what it returned, or the code it threw. */
interface Seen {
  returnedRes?: boolean;
  threw?: unknown;
}

/** A handler that answers, then sets a header through a per-response wrapper (`drop`: Next's; else one that passes it on). */
function lateHeaderApp(drop: boolean, seen: Seen[], options?: HeaderGuardOptions): http.RequestListener {
  const guard = options === undefined ? undefined : headerGuard(options);
  const handler = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (drop) dropLateHeaders(res);
    else {
      const setHeader = res.setHeader;
      res.setHeader = function passOn(this: http.ServerResponse, name: string, value: number | string | readonly string[]) {
        return setHeader.call(this, name, value);
      };
    }
    res.setHeader('content-type', 'text/plain');
    res.end('answered'); // @instance-first
    try {
      seen.push({ returnedRes: res.setHeader('x-late', '1') === res }); // @instance-late
    } catch (error) {
      seen.push({ threw: error instanceof HeaderGuardError ? 'HeaderGuardError' : (error as { code?: unknown }).code });
    }
  };
  return guard === undefined ? handler : (req, res) => guard(req, res, () => handler(req, res));
}

describe('late calls through per-response wrappers', () => {
  for (const drop of [true, false]) {
    const what = drop ? "a wrapper that drops the late call (Next.js's setHeader)" : 'a wrapper that passes it on to Node';
    it(`${what}: one report at the user's lines, the same return or throw and bytes as without the guard`, async () => {
      const { violations, onViolation } = collector();
      const seen: Seen[] = [];
      const guarded = await requestApp(lateHeaderApp(drop, seen, { onViolation }), '/');
      const bareSeen: Seen[] = [];
      const bare = await requestApp(lateHeaderApp(drop, bareSeen), '/');
      await settle();
      assert.equal(violations.length, 1, JSON.stringify(violations.map((violation) => violation.message)));
      const violation = violations[0]!;
      assert.equal(violation.kind, 'late-header');
      assert.equal(violation.call, "res.setHeader('x-late')");
      assert.ok(violation.message.includes(markerSite(__filename, 'instance-late')), violation.message);
      assert.ok(violation.message.includes(markerSite(__filename, 'instance-first')), violation.message);
      // Whether Node throws is up to the wrapper: the report says only what holds either way.
      assert.match(violation.message, /was called after the response headers were sent: the client never sees it\./);
      assert.deepEqual(seen, bareSeen);
      assert.deepEqual(seen, drop ? [{ returnedRes: true }] : [{ threw: 'ERR_HTTP_HEADERS_SENT' }]);
      delete guarded.headers.date;
      delete bare.headers.date;
      assert.deepEqual(guarded, bare);
    });
  }

  it('throw mode throws from the late call, even where the wrapper would have dropped it', async () => {
    const seen: Seen[] = [];
    await requestApp(lateHeaderApp(true, seen, { mode: 'throw', onViolation: () => undefined }), '/');
    assert.deepEqual(seen, [{ threw: 'HeaderGuardError' }]);
  });

  it("compression's end drops a res.end(data) after the response went out: reported once, and the client gets what it gets without the guard", async () => {
    const build = (options?: HeaderGuardOptions): express.Express => {
      const app = express();
      if (options !== undefined) app.use(headerGuard(options));
      app.use(compression({ threshold: 0 }));
      app.get('/', (_req, res) => {
        res.type('text');
        res.end('first'); // @compression-first
        // Once compression's stream has ended the response, its end drops data without a word.
        res.on('finish', () => setImmediate(() => res.end('second'))); // @compression-late
      });
      return app;
    };
    const { violations, onViolation } = collector();
    const guarded = await requestApp(build({ onViolation }), '/', { headers: { 'accept-encoding': 'gzip' } });
    const bare = await requestApp(build(), '/', { headers: { 'accept-encoding': 'gzip' } });
    await settle();
    assert.equal(violations.length, 1, JSON.stringify(violations.map((violation) => violation.message)));
    assert.equal(violations[0]!.kind, 'write-after-end');
    assert.ok(violations[0]!.message.includes(markerSite(__filename, 'compression-late')), violations[0]!.message);
    assert.ok(violations[0]!.message.includes(markerSite(__filename, 'compression-first')), violations[0]!.message);
    delete guarded.headers.date;
    delete bare.headers.date;
    assert.deepEqual(guarded, bare);
  });

  it('what an assignment stores: a wrapper with the same name and length; a saved method assigned back keeps its identity', async () => {
    const checks: unknown[] = [];
    const app: http.RequestListener = (req, res) => {
      headerGuard()(req, res, () => {
        const saved = res.end;
        function end(this: http.ServerResponse, ...args: unknown[]): unknown {
          return (saved as (...rest: unknown[]) => unknown).apply(this, args);
        }
        res.end = end as typeof res.end;
        checks.push(res.end === end, res.end.name, res.end.length, Object.keys(res).includes('end'));
        res.end = saved;
        checks.push(res.end === saved);
        res.end('ok');
      });
    };
    const result = await requestApp(app, '/');
    assert.equal(result.body, 'ok');
    assert.deepEqual(checks, [false, 'end', 0, true, true]);
  });

  it("Express's own methods, assigned when Express loads, stay plain functions on its prototype; a plain response reads no json", () => {
    const json = Object.getOwnPropertyDescriptor(require('express/lib/response.js') as object, 'json');
    assert.ok(json !== undefined);
    // Express's prototype was patched by the tests above: its method is the guard's accessor now,
    // and the function it guards is Express's own.
    assert.equal(typeof (require('express/lib/response.js') as { json: unknown }).json, 'function');
    const plain = new http.ServerResponse(new http.IncomingMessage(null as never));
    assert.equal((plain as unknown as { json?: unknown }).json, undefined);
    // An assignment on a response no guard watches is the assignment itself.
    const fn = (): void => undefined;
    (plain as unknown as { json: unknown }).json = fn;
    assert.equal(Object.getOwnPropertyDescriptor(plain, 'json')?.value, fn);
  });
});
