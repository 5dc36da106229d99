// Every violation kind, on Express 4 and 5, in log and throw mode: the kind, both reported
// sites (file:line), what the client receives, and what throw mode throws.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { HeaderGuardError, headerGuard, type Violation } from '../src/index.js';
import { BUGGY_APP_FILE, STATIC_FILE, buggyApp } from './fixtures/buggy-app.js';
import { EXPRESS_VERSIONS, collector, listen, markerSite, request, settle, waitFor } from './helpers.js';

interface Case {
  path: string;
  kind: Violation['kind'];
  code: string;
  call: string;
  /** Marker of the offending line(s), innermost first. */
  late: string[];
  /** Marker of the first send's line(s), innermost first. */
  first: string[];
  /** Marker of the end, when the report shows one apart from the first send. */
  ended?: string;
  /** What the client gets in log mode: the first answer, untouched. */
  status: number;
  body: string;
}

const CASES: Case[] = [
  { path: '/late-status', kind: 'late-status', code: 'ERR_HEADER_GUARD_LATE_STATUS', call: 'res.status(500)', late: ['late-status:late'], first: ['late-status:first'], status: 200, body: '{"ok":true}' },
  { path: '/late-status-assign', kind: 'late-status', code: 'ERR_HEADER_GUARD_LATE_STATUS', call: 'res.statusCode = 404', late: ['late-status-assign:late'], first: ['late-status-assign:first'], status: 200, body: 'sent' },
  { path: '/late-header', kind: 'late-header', code: 'ERR_HTTP_HEADERS_SENT', call: "res.setHeader('x-late')", late: ['late-header:late'], first: ['late-header:first'], status: 200, body: 'hello' },
  { path: '/late-cookie', kind: 'late-header', code: 'ERR_HTTP_HEADERS_SENT', call: "res.cookie('sid')", late: ['late-cookie:late'], first: ['late-cookie:first'], status: 200, body: 'streamed' },
  { path: '/double-send', kind: 'double-send', code: 'ERR_HTTP_HEADERS_SENT', call: 'res.json()', late: ['reply', 'double-send:late'], first: ['reply', 'double-send:first'], status: 200, body: '{"n":1}' },
  { path: '/double-send-pending', kind: 'double-send', code: 'ERR_HEADER_GUARD_DOUBLE_SEND', call: 'res.json()', late: ['double-send-pending:late'], first: ['double-send-pending:first'], status: 200, body: readFileSync(STATIC_FILE, 'latin1') },
  { path: '/write-after-end', kind: 'write-after-end', code: 'ERR_HEADER_GUARD_WRITE_AFTER_END', call: 'res.write()', late: ['write-after-end:late'], first: ['write-after-end:first'], status: 200, body: 'done' },
  { path: '/end-after-end', kind: 'write-after-end', code: 'ERR_HEADER_GUARD_WRITE_AFTER_END', call: 'res.end(data)', late: ['end-after-end:late'], first: ['end-after-end:first'], ended: 'end-after-end:ended', status: 200, body: 'part;done' },
  { path: '/next-after-send', kind: 'next-after-send', code: 'ERR_HEADER_GUARD_NEXT_AFTER_SEND', call: 'next()', late: ['next-after-send:late'], first: ['next-after-send:first'], status: 200, body: '{"answered":true}' },
  { path: '/error-after-send', kind: 'error-after-send', code: 'ERR_HEADER_GUARD_ERROR_AFTER_SEND', call: 'next(err)', late: ['error-after-send:late'], first: ['error-after-send:first'], status: 200, body: 'answered' },
];

/** What the app saw thrown, comparable across runs: the error's class, code and message. */
function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name} ${String((error as { code?: unknown }).code)} ${error.message}` : String(error);
}

/** Assert that `stack` (the violation's frames) starts with the marker lines, in order. */
function assertFrames(stack: Violation['offendingStack'], markers: string[], label: string): void {
  const shown = stack.map((site) => `${site.file.slice(process.cwd().length + 1)}:${site.line}:`);
  markers.forEach((marker, index) => {
    assert.equal(shown[index], markerSite(BUGGY_APP_FILE, marker), `${label} frame ${index} should be @${marker}; got ${shown.join(' | ')}`);
  });
}

for (const [version, express] of EXPRESS_VERSIONS) {
  for (const mode of ['log', 'throw'] as const) {
    describe(`${version}, ${mode} mode`, () => {
      // One server for all cases, as in real use: its first response is guarded from the
      // middleware alone, later ones through the state slot reserved at request start.
      const { violations, onViolation } = collector();
      const thrown: unknown[] = [];
      const bareThrown: unknown[] = [];
      let server: Awaited<ReturnType<typeof listen>>;
      let bare: Awaited<ReturnType<typeof listen>>;
      before(async () => {
        server = await listen(buggyApp(express, { mode, onViolation }, thrown));
        bare = await listen(buggyApp(express, undefined, bareThrown));
      });
      after(async () => {
        await server.close();
        await bare.close();
      });
      beforeEach(async () => {
        await settle();
        violations.length = 0;
        thrown.length = 0;
        bareThrown.length = 0;
      });

      for (const c of CASES) {
        it(`${c.kind}: ${c.path} names the late call and the first send`, async () => {
          const result = await request(server.url + c.path);
          await waitFor(() => violations.length > 0, 1000, 'a violation');
          await settle();

          assert.equal(violations.length, 1, `exactly one report, got: ${violations.map((v) => v.message).join('\n---\n')}`);
          const violation = violations[0] as Violation;
          assert.equal(violation.kind, c.kind);
          assert.equal(violation.code, c.code);
          assert.equal(violation.call, c.call);
          assert.equal(violation.method, 'GET');
          assert.equal(violation.path, c.path);
          assert.equal(violation.route, c.path);
          assertFrames(violation.offendingStack, c.late, 'offending');
          assertFrames(violation.firstSentStack, c.first, 'first send');
          assert.ok(typeof violation.elapsedMs === 'number' && violation.elapsedMs >= 0);
          // The report text names both sites as file:line:column.
          assert.ok(violation.message.includes(markerSite(BUGGY_APP_FILE, c.late[0] as string)), violation.message);
          assert.ok(violation.message.includes(markerSite(BUGGY_APP_FILE, c.first[0] as string)), violation.message);
          if (c.ended !== undefined) {
            assert.ok(violation.ended, 'the end is reported');
            assert.ok(violation.message.includes(markerSite(BUGGY_APP_FILE, c.ended)), violation.message);
          }
          assert.ok(!violation.message.includes('secret'), 'no header or cookie values in reports');

          if (mode === 'log') {
            // Log mode only observes: the client and the app see what they see without the guard
            // (Node's own throws included).
            const expected = await request(bare.url + c.path);
            await settle();
            assert.equal(result.status, expected.status);
            assert.equal(result.body, expected.body);
            assert.equal(result.error, expected.error);
            assert.deepEqual(thrown.map(describeThrown), bareThrown.map(describeThrown));
          } else {
            // Throw mode stops the late call: the client got the first answer, whole.
            assert.equal(result.status, c.status);
            assert.equal(result.body, c.body);
          }

          const guardErrors = thrown.filter((error) => error instanceof HeaderGuardError) as HeaderGuardError[];
          if (c.kind === 'error-after-send') {
            // next(err) is Express's own call: in both modes the app's error handler gets the
            // original error, unchanged (throw mode rethrows only what no error handler kept).
            assert.equal(thrown.length, 1);
            assert.equal((thrown[0] as Error).message, 'boom after send');
          } else if (mode === 'throw') {
            assert.equal(guardErrors.length, 1, `throw mode throws once at the late call; thrown: ${thrown.map(String).join(', ')}`);
            const error = guardErrors[0] as HeaderGuardError;
            assert.equal(error.name, 'HeaderGuardError');
            assert.equal(error.code, c.code);
            assert.equal(error.violation, violation);
            assert.equal(error.message, violation.message);
          }
        });
      }
    });
  }
}

for (const [version, express] of EXPRESS_VERSIONS) {
  describe(`${version}, a guard mounted on a path`, () => {
    /** An app whose double send and late status sit both inside and outside the guard's path. */
    function app(options: NonNullable<Parameters<typeof buggyApp>[1]>) {
      const mounted = express();
      // A status assigned before the guard comes: held for the guard on every later request of
      // the server (src/patch/status-code.ts), read by Node and by the app as assigned.
      mounted.use((req, res, next) => {
        if (req.path.endsWith('/early')) res.statusCode = 202;
        next();
      });
      if (options.onViolation !== undefined) mounted.use('/api', headerGuard(options));
      for (const prefix of ['/api', '/other']) {
        mounted.get(`${prefix}/double`, (req, res) => {
          res.send('first');
          try {
            res.send('second');
          } catch {
            // Express's own ERR_HTTP_HEADERS_SENT, outside the guard.
          }
        });
        mounted.get(`${prefix}/status`, (req, res) => {
          res.statusCode = 201;
          res.end('created');
          res.statusCode = 500;
        });
        mounted.get(`${prefix}/early`, (req, res) => {
          res.end(`status ${res.statusCode}`);
          res.statusCode = 500;
        });
      }
      return mounted;
    }

    it('guards only the responses that pass through it, on every request of the server', async () => {
      const { violations, onViolation } = collector();
      const guarded = await listen(app({ onViolation }));
      const bare = await listen(app({}));
      try {
        for (let round = 0; round < 3; round++) {
          for (const path of ['/other/double', '/other/status', '/other/early', '/api/double', '/api/status', '/api/early']) {
            violations.length = 0;
            const got = await request(guarded.url + path);
            const expected = await request(bare.url + path);
            await settle(10);
            assert.equal(got.status, expected.status, path);
            assert.equal(got.body, expected.body, path);
            if (path.endsWith('/early')) assert.deepEqual([got.status, got.body], [202, 'status 202'], path);
            if (path.startsWith('/other')) {
              assert.deepEqual(violations, [], `${path}, round ${round}: not guarded`);
            } else {
              assert.deepEqual(violations.map((v) => v.kind), [path.endsWith('double') ? 'double-send' : 'late-status'], `${path}, round ${round}`);
              if (path.endsWith('/early')) assert.equal(violations[0]?.statusCode, 202, violations[0]?.message);
            }
          }
        }
      } finally {
        await guarded.close();
        await bare.close();
      }
    });
  });
}
