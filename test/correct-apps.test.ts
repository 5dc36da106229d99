// Correct apps stay silent and byte-identical: every route of the correct app, on Express 4 and
// 5, with the guard mounted first or after the middleware that wrap the response, in both modes,
// against the same app without the guard.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { accessLog, correctApp, type GuardPlacement } from './fixtures/correct-app.js';
import { EXPRESS_VERSIONS, collector, listen, request, settle, type ClientResult } from './helpers.js';

interface Probe {
  name: string;
  path: string;
  options?: http.RequestOptions;
  /** Build the request from the bare app's first answer (conditional requests). */
  conditional?: (first: ClientResult) => http.OutgoingHttpHeaders;
}

const PROBES: Probe[] = [
  { name: 'json', path: '/json' },
  { name: 'chunked writes', path: '/chunked' },
  { name: 'compressed body', path: '/big', options: { headers: { 'accept-encoding': 'gzip' } } },
  { name: 'uncompressed big body', path: '/big' },
  { name: 'sendFile', path: '/file' },
  { name: 'sendFile with callback', path: '/file-callback' },
  { name: 'sendFile of a missing file, answered by the error handler', path: '/missing-file' },
  { name: 'sendFile of a missing file, answered by its callback', path: '/missing-file-callback' },
  { name: 'download', path: '/download' },
  { name: 'redirect', path: '/redirect' },
  { name: 'redirect 301', path: '/redirect-301' },
  { name: 'sendStatus', path: '/status' },
  { name: 'cookies, attachment, vary, links', path: '/cookie' },
  { name: 'format (json)', path: '/format', options: { headers: { accept: 'application/json' } } },
  { name: 'format (text)', path: '/format', options: { headers: { accept: 'text/plain' } } },
  { name: 'render', path: '/view' },
  { name: 'render with callback', path: '/view-callback' },
  { name: 'render that fails', path: '/view-fails' },
  { name: 'express-session saving', path: '/session' },
  { name: 'res.end behind express-session', path: '/session-end' },
  { name: 'event stream', path: '/events' },
  { name: 'error thrown before sending', path: '/thrown-before-send' },
  { name: 'next(err) before sending', path: '/next-error' },
  { name: 'async handler', path: '/async' },
  { name: 'status and headers before sending', path: '/status-then-send' },
  { name: 'middleware chain', path: '/middleware-chain' },
  { name: "next('route')", path: '/skip-route' },
  { name: 'HEAD', path: '/head-and-get', options: { method: 'HEAD' } },
  { name: 'router', path: '/api/item/7?secret=1' },
  { name: 'sub-app', path: '/sub/hello' },
  { name: 'after a sub-app', path: '/after-sub' },
  { name: '404', path: '/nowhere' },
  { name: 'CORS preflight', path: '/json', options: { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'PUT' } } },
  { name: '304 revalidation of json', path: '/json', conditional: (first) => ({ 'if-none-match': String(first.headers.etag) }) },
  { name: '304 revalidation of a file', path: '/file', conditional: (first) => ({ 'if-modified-since': String(first.headers['last-modified']) }) },
];

/** Headers that legitimately differ between two runs. */
function normalize(result: ClientResult): ClientResult {
  const headers = { ...result.headers };
  delete headers.date;
  if (headers['x-response-time'] !== undefined) headers['x-response-time'] = '<ms>';
  if (headers['set-cookie'] !== undefined) headers['set-cookie'] = headers['set-cookie'].map((cookie) => cookie.replace(/^connect\.sid=[^;]*/, 'connect.sid=<id>'));
  return { ...result, headers };
}

async function run(app: http.RequestListener, probe: Probe): Promise<{ first: ClientResult; result: ClientResult }> {
  const server = await listen(app);
  try {
    const first = await request(server.url + probe.path, probe.options);
    if (probe.conditional === undefined) return { first, result: first };
    const result = await request(server.url + probe.path, { ...probe.options, headers: { ...probe.options?.headers, ...probe.conditional(first) } });
    return { first, result };
  } finally {
    await server.close();
  }
}

/** The variants: where the guard is mounted, its mode, and whether lint and header tracking are on. */
const VARIANTS: Array<{ placement: GuardPlacement; mode: 'log' | 'throw'; lint: boolean }> = [
  { placement: 'first', mode: 'log', lint: false },
  { placement: 'first', mode: 'throw', lint: false },
  { placement: 'last', mode: 'log', lint: false },
  { placement: 'last', mode: 'throw', lint: false },
  { placement: 'first', mode: 'log', lint: true },
  { placement: 'last', mode: 'throw', lint: true },
];

for (const [version, express] of EXPRESS_VERSIONS) {
  const bare = correctApp(express, 'none', {});
  for (const { placement, mode, lint } of VARIANTS) {
    {
      describe(`correct app, ${version}, guard mounted ${placement}, ${mode} mode${lint ? ', lint and header tracking on' : ''}`, () => {
        for (const probe of PROBES) {
          it(`${probe.name}: no report, same response as without the guard`, async () => {
            const { violations, onViolation } = collector();
            const guarded = correctApp(express, placement, { mode, onViolation, lint, hangTimeoutMs: 2000 });
            const expected = normalize((await run(bare, probe)).result);
            accessLog.length = 0;
            const actual = normalize((await run(guarded, probe)).result);
            await settle(15);
            assert.deepEqual(violations.map((v) => v.message), []);
            assert.deepEqual(actual, expected);
            if (probe.conditional !== undefined) assert.equal(actual.status, 304);
            // The access log reports the status the client saw.
            const logged = accessLog.at(-1);
            if (logged !== undefined) assert.ok(logged.endsWith(` ${actual.status}`), `morgan logged "${logged}", client saw ${actual.status}`);
          });
        }

        it('a client that disconnects early: no report, and the server goes on', async () => {
          const { violations, onViolation } = collector();
          const server = await listen(correctApp(express, placement, { mode, onViolation, lint, hangTimeoutMs: 30 }));
          try {
            await new Promise<void>((resolve) => {
              const req = http.get(`${server.url}/slow`, { agent: false }, (res) => {
                res.once('data', () => {
                  req.destroy();
                  resolve();
                });
              });
              req.on('error', () => resolve());
            });
            await settle(40);
            const after = await request(`${server.url}/json`);
            assert.equal(after.status, 200);
            assert.deepEqual(violations.map((v) => v.message), []);
          } finally {
            await server.close();
          }
        });
      });
    }
  }
}
