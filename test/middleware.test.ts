// The guard keeps seeing bugs behind compression and express-session (which wrap end() after
// it and call the real end() later), in routers and in mounted sub-apps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WRAPPED_APP_FILE, wrappedApp } from './fixtures/wrapped-app.js';
import { EXPRESS_VERSIONS, collector, markerSite, requestApp, settle, waitFor } from './helpers.js';

const CASES = [
  { path: '/session-double', kind: 'double-send', marker: 'session-double', route: '/session-double', status: 200, nodeThrows: 'ERR_HTTP_HEADERS_SENT' },
  { path: '/compressed-late-header', kind: 'late-header', marker: 'compressed-late-header', route: '/compressed-late-header', status: 200, nodeThrows: 'ERR_HTTP_HEADERS_SENT' },
  { path: '/api/next/42?token=secret', kind: 'next-after-send', marker: 'router-next', route: '/api/next/:id', status: 200, nodeThrows: undefined },
  { path: '/sub/late', kind: 'late-status', marker: 'sub-late', route: '/sub/late', status: 201, nodeThrows: undefined },
] as const;

for (const [version, express] of EXPRESS_VERSIONS) {
  for (const mode of ['log', 'throw'] as const) {
    describe(`behind wrapping middleware, ${version}, ${mode} mode`, () => {
      for (const c of CASES) {
        it(`${c.kind} at ${c.path.split('?')[0]}`, async () => {
          const { violations, onViolation } = collector();
          const thrown: unknown[] = [];
          const result = await requestApp(wrappedApp(express, { mode, onViolation }, thrown), c.path, { headers: { 'accept-encoding': 'gzip' } });
          await waitFor(() => violations.length > 0, 1000, 'a violation');
          await settle();
          assert.equal(violations.length, 1, violations.map((v) => v.message).join('\n---\n'));
          const violation = violations[0]!;
          assert.equal(violation.kind, c.kind);
          assert.equal(violation.route, c.route);
          assert.equal(violation.path, c.path.split('?')[0]);
          assert.ok(violation.message.includes(`${markerSite(WRAPPED_APP_FILE, `${c.marker}:late`)}`), violation.message);
          assert.ok(violation.message.includes(`${markerSite(WRAPPED_APP_FILE, `${c.marker}:first`)}`), violation.message);
          assert.ok(!/secret/.test(violation.message), 'no query string or header value in the report');
          if (mode === 'log') {
            // Log mode changes nothing else: the client gets the whole first answer, and the app
            // sees exactly what Node throws without the guard.
            assert.equal(result.status, c.status);
            assert.equal(result.error, undefined);
            assert.deepEqual(thrown.map((error) => (error as { code?: unknown }).code), c.nodeThrows === undefined ? [] : [c.nodeThrows]);
          } else {
            // Throw mode throws at the late call (a thrown next() then reaches Express's final
            // handler, which closes the connection as it does for any error after a response).
            assert.equal(thrown.length, 1);
            assert.equal((thrown[0] as Error).name, 'HeaderGuardError');
          }
        });
      }
    });
  }
}
