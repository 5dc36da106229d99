// Beyond the double send: hung responses, header origins, response lint. Each reports when it
// should and stays silent when it should, on Express 4 and 5 behind helmet and cors.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import type { HeaderGuardOptions, Violation } from '../src/index.js';
import { BEYOND_APP_FILE, beyondApp, originsSeen } from './fixtures/beyond-app.js';
import { EXPRESS_VERSIONS, collector, listen, markerLine, markerSite, request, settle, waitFor } from './helpers.js';

/** Send one request, let the server work for `ms`, then drop the connection; return the reports. */
async function run(express: (typeof EXPRESS_VERSIONS)[number][1], path: string, options: HeaderGuardOptions, ms = 250): Promise<Violation[]> {
  const { violations, onViolation } = collector();
  const server = await listen(beyondApp(express, { codeFrame: false, ...options, onViolation }));
  try {
    const req = http.get(server.url + path, { agent: false }, (res) => res.resume());
    req.on('error', () => undefined);
    await settle(ms);
    req.destroy();
    await settle(20);
  } finally {
    await server.close();
  }
  return violations;
}

const shownFile = (violation: Violation) => violation.offendingStack.map((site) => `${site.file.slice(process.cwd().length + 1)}:${site.line}:`);

for (const [version, express] of EXPRESS_VERSIONS) {
  describe(`hung responses, ${version}`, () => {
    it('a response that stalls after writing is reported once, with where it last wrote', async () => {
      const violations = await run(express, '/stalls-after-write', { hangTimeoutMs: 80 }, 300);
      assert.equal(violations.length, 1, violations.map((v) => v.message).join('\n'));
      const violation = violations[0]!;
      assert.equal(violation.kind, 'hang');
      assert.equal(violation.code, 'ERR_HEADER_GUARD_HANG');
      assert.equal(violation.route, '/stalls-after-write');
      assert.match(violation.message, /made no progress for 80 ms and has not ended \(its headers were sent\)/);
      assert.equal(shownFile(violation)[0], markerSite(BEYOND_APP_FILE, 'hang:write'));
      assert.equal(violation.firstSentCall, 'res.write()');
    });

    it('a handler that never answers is reported, saying nothing was sent', async () => {
      const violations = await run(express, '/never-answers', { hangTimeoutMs: 80 }, 200);
      assert.equal(violations.length, 1);
      assert.equal(violations[0]!.kind, 'hang');
      assert.match(violations[0]!.message, /not even its headers were sent/);
      assert.match(violations[0]!.message, /nothing was written since header-guard saw the response/);
    });

    it('a stream that keeps writing, a slow response that ends, a client that goes away: nothing', async () => {
      assert.deepEqual(await run(express, '/streams', { hangTimeoutMs: 80 }, 300), []);
      // Answers at 60 ms, well inside the timeout, even on a paused machine.
      assert.deepEqual(await run(express, '/slow-but-ends', { hangTimeoutMs: 400 }, 500), []);
      // The client drops the connection at 30 ms, before the 80 ms are up.
      assert.deepEqual(await run(express, '/stalls-after-write', { hangTimeoutMs: 80 }, 30), []);
    });

    it('hangTimeoutMs: 0 turns it off', async () => {
      assert.deepEqual(await run(express, '/never-answers', { hangTimeoutMs: 0 }, 150), []);
    });

    it('in throw mode a hang is reported, never thrown (the sweep has no caller to throw to)', async () => {
      const violations = await run(express, '/never-answers', { mode: 'throw', hangTimeoutMs: 80 }, 200);
      assert.deepEqual(violations.map((v) => v.kind), ['hang']);
    });
  });

  describe(`header origins, ${version}`, () => {
    it('lists who changed each header, helmet first and the app override last', async () => {
      originsSeen.clear();
      await run(express, '/frame-options', { trackHeaders: true, hangTimeoutMs: 0 }, 100);
      const origins = originsSeen.get('/frame-options');
      assert.ok(origins, 'headerOrigins(res) was read');
      const frame = origins.get('x-frame-options');
      assert.ok(frame && frame.length === 2, JSON.stringify(frame));
      assert.match(frame[0]!.site!.file, /node_modules[\\/]helmet[\\/]/);
      assert.equal(frame[0]!.action, 'set');
      assert.equal(frame[1]!.site!.line, markerLine(BEYOND_APP_FILE, 'origins:override'));
      assert.equal(frame[1]!.call, "res.set() -> res.setHeader('X-Frame-Options')");
      assert.ok(origins.has('content-type') && origins.has('access-control-allow-origin'));
    });

    it('is empty without trackHeaders', async () => {
      originsSeen.clear();
      await run(express, '/frame-options', { hangTimeoutMs: 0 }, 100);
      assert.equal(originsSeen.get('/frame-options')?.size, 0);
    });

    for (const mode of ['log', 'throw'] as const) {
      it(`a late header change names who set the header before (${mode} mode)`, async () => {
        const violations = await run(express, '/late-after-set', { trackHeaders: true, mode, hangTimeoutMs: 0 }, 100);
        assert.equal(violations.length, 1);
        assert.match(violations[0]!.message, /x-trace was changed before by:\n\s+res\.set\(\) -> res\.setHeader\('x-trace'\) at /);
        assert.ok(violations[0]!.message.includes(markerSite(BEYOND_APP_FILE, 'origins:early')), violations[0]!.message);
        assert.ok(violations[0]!.message.includes(markerSite(BEYOND_APP_FILE, 'origins:late')));
      });
    }
  });

  describe(`response lint, ${version}`, () => {
    for (const mode of ['log', 'throw'] as const) {
      it(`a one-value header with two values, naming each setter (${mode} mode)`, async () => {
        const violations = await run(express, '/duplicate-type', { lint: true, mode, hangTimeoutMs: 0 }, 100);
        assert.equal(violations.length, 1, violations.map((v) => v.message).join('\n'));
        const violation = violations[0]!;
        assert.equal(violation.kind, 'duplicate-header');
        assert.match(violation.message, /the content-type header went out with 2 values/);
        assert.ok(violation.message.includes(markerSite(BEYOND_APP_FILE, 'lint:type1')), violation.message);
        assert.ok(violation.message.includes(markerSite(BEYOND_APP_FILE, 'lint:type2')), violation.message);
        assert.equal(shownFile(violation)[0], markerSite(BEYOND_APP_FILE, 'lint:type2'));
      });
    }

    it('a second Access-Control-Allow-Origin next to cors(): names cors and the app', async () => {
      const violations = await run(express, '/duplicate-cors', { lint: true, hangTimeoutMs: 0 }, 100);
      assert.equal(violations.length, 1);
      assert.match(violations[0]!.message, /access-control-allow-origin header went out with 2 values/);
      assert.match(violations[0]!.message, /node_modules\/cors\//);
      assert.ok(violations[0]!.message.includes(markerSite(BEYOND_APP_FILE, 'lint:cors')));
    });

    it('a body on a 204, naming the status and the write', async () => {
      const violations = await run(express, '/body-on-204', { lint: true, hangTimeoutMs: 0 }, 100);
      assert.equal(violations.length, 1);
      assert.equal(violations[0]!.kind, 'body-on-no-content');
      assert.match(violations[0]!.message, /res\.end\(data\) wrote 7 bytes on a 204 response/);
      assert.equal(shownFile(violations[0]!)[0], markerSite(BEYOND_APP_FILE, 'lint:204'));
    });

    it('a Content-Length that differs from the bytes written', async () => {
      const violations = await run(express, '/short-body', { lint: true, hangTimeoutMs: 0 }, 100);
      assert.equal(violations.length, 1);
      assert.equal(violations[0]!.kind, 'content-length-mismatch');
      assert.match(violations[0]!.message, /declared Content-Length 10 but wrote 5 bytes: the client waits for the rest/);
      assert.equal(shownFile(violations[0]!)[0], markerSite(BEYOND_APP_FILE, 'lint:short'));
      assert.ok(violations[0]!.message.includes(markerSite(BEYOND_APP_FILE, 'lint:length')), violations[0]!.message);
    });

    it('without lint: none of these are reported', async () => {
      for (const path of ['/duplicate-type', '/body-on-204', '/short-body']) {
        assert.deepEqual(await run(express, path, { hangTimeoutMs: 0 }, 80), []);
      }
    });
  });
}

describe('lint and hang are reported, never thrown', () => {
  it('in throw mode they go to onViolation and the response is untouched', async () => {
    const [, express] = EXPRESS_VERSIONS[1]!;
    const { violations, onViolation } = collector();
    const server = await listen(beyondApp(express, { mode: 'throw', lint: true, hangTimeoutMs: 0, onViolation, codeFrame: false }));
    try {
      const result = await request(`${server.url}/duplicate-type`);
      assert.equal(result.status, 200);
      assert.equal(result.body, 'which one?');
      await waitFor(() => violations.length === 1);
    } finally {
      await server.close();
    }
  });
});
