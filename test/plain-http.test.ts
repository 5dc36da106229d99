// The same guard around a plain node:http handler.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderGuardError } from '../src/index.js';
import { PLAIN_HTTP_FILE, bareServer, plainServer } from './fixtures/plain-http.js';
import { collector, markerSite, requestApp, settle, waitFor } from './helpers.js';

const CASES = [
  { path: '/late-status', kind: 'late-status', marker: 'plain-late-status', call: 'res.statusCode = 500', status: 200, body: 'ok' },
  { path: '/late-header', kind: 'late-header', marker: 'plain-late-header', call: "res.setHeader('set-cookie')", status: 200, body: 'streamed' },
  { path: '/write-head-twice', kind: 'late-header', marker: 'plain-write-head-twice', call: 'res.writeHead(500)', status: 201, body: 'created' },
  { path: '/write-after-end', kind: 'write-after-end', marker: 'plain-write-after-end', call: 'res.write()', status: 200, body: 'done' },
] as const;

/** An error's code, to compare what the handler saw with and without the guard. */
const codeOf = (error: unknown): unknown => (error as { code?: unknown }).code;

for (const mode of ['log', 'throw'] as const) {
  describe(`plain node:http, ${mode} mode`, () => {
    for (const c of CASES) {
      it(`${c.kind} at ${c.path}`, async () => {
        const { violations, onViolation } = collector();
        const thrown: unknown[] = [];
        const result = await requestApp(plainServer({ mode, onViolation }, thrown), c.path);
        await waitFor(() => violations.length > 0, 1000, 'a violation');
        await settle();
        assert.equal(violations.length, 1);
        const violation = violations[0]!;
        assert.equal(violation.kind, c.kind);
        assert.equal(violation.call, c.call);
        assert.equal(violation.route, undefined);
        assert.ok(violation.message.includes(markerSite(PLAIN_HTTP_FILE, `${c.marker}:late`)), violation.message);
        assert.ok(violation.message.includes(markerSite(PLAIN_HTTP_FILE, `${c.marker}:first`)), violation.message);
        assert.ok(!violation.message.includes('secret'));
        assert.equal(result.status, c.status);
        assert.equal(result.body, c.body);
        if (mode === 'log') {
          // Log mode only observes: the same handler without the guard sees the same throws and
          // sends the same bytes.
          const bareThrown: unknown[] = [];
          const bare = await requestApp(bareServer(bareThrown), c.path);
          await settle();
          delete result.headers.date;
          delete bare.headers.date;
          assert.deepEqual(result, bare);
          assert.deepEqual(thrown.map(codeOf), bareThrown.map(codeOf));
        } else {
          assert.equal(thrown.length, 1);
          assert.ok(thrown[0] instanceof HeaderGuardError);
          assert.equal((thrown[0] as HeaderGuardError).violation, violation);
        }
      });
    }

    it('a correct streaming handler: no report, same bytes as without the guard', async () => {
      const { violations, onViolation } = collector();
      const guarded = await requestApp(plainServer({ mode, onViolation }, []), '/stream');
      const bare = await requestApp(bareServer(), '/stream');
      await settle();
      assert.deepEqual(violations, []);
      delete guarded.headers.date;
      delete bare.headers.date;
      assert.deepEqual(guarded, bare);
      assert.equal(guarded.body, 'abc');
    });
  });
}
