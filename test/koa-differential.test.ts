// Log mode only observes, on Koa: the same app with and without koaHeaderGuard() gives the
// client the same status, headers and bytes, the late calls the same throws (Node's own for raw
// calls, nothing for Koa's ignored setters), and the app's 'error' event the same errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Koa from 'koa';
import { koaHeaderGuard } from '../src/adapters/koa.js';
import { listen, request, settle, type ClientResult } from './helpers.js';
import { CORRECT_PATHS, LATE_PATHS, koaApp, type KoaFixture } from './fixtures/koa-app.js';

type Options = Parameters<typeof request>[1];

/**
 * Which of a server's requests is compared: the `first` is guarded from the middleware alone,
 * `later` ones through the state slot reserved when they start (src/slot.ts).
 */
type Turn = 'first' | 'later';

/** What one request showed: the client's view without the date, and what the app saw thrown. */
async function observe(fixture: KoaFixture, path: string, options: Options, turn: Turn = 'first') {
  const server = await listen(fixture.app.callback());
  let client: ClientResult;
  try {
    if (turn === 'later') assert.equal((await request(server.url + '/ok', { timeout: 2000 })).status, 200);
    client = await request(server.url + path, { timeout: 2000, ...options });
    await settle(40);
  } finally {
    await server.close();
  }
  const { date: _date, ...headers } = client.headers;
  const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${(error as { code?: string }).code ?? ''} ${error.message}` : String(error));
  return { status: client.status, headers, body: client.body, error: client.error, thrown: fixture.thrown.map(describe), errors: fixture.errors.map(describe) };
}

const REQUESTS: Array<[path: string, options: Options]> = [
  ...[...LATE_PATHS, '/mix-uncaught', ...CORRECT_PATHS].map((path): [string, Options] => [path, {}]),
  ['/big', { headers: { 'accept-encoding': 'gzip' } }],
  ['/ok', { method: 'HEAD' }],
  ['/back', { headers: { referer: '/ok' } }],
  ['/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' }],
  ['/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad json' }],
  ['/ok', { method: 'DELETE' }],
];

describe('koaHeaderGuard() in log mode: the same app with and without it', () => {
  for (const turn of ['first', 'later'] as const) {
    for (const [path, options] of REQUESTS) {
      it(`${options?.method ?? 'GET'} ${path} (${turn} request)`, async () => {
        const bare = await observe(koaApp(), path, options, turn);
        const reports: string[] = [];
        const guarded = await observe(koaApp(koaHeaderGuard({ logger: { warn: (message) => reports.push(message) } }) as Koa.Middleware), path, options, turn);
        assert.deepEqual(guarded, bare);
        if (LATE_PATHS.includes(path) || path === '/mix-uncaught') assert.ok(reports.length > 0, 'the late call was reported');
        else assert.deepEqual(reports, []);
      });
    }
  }

  it('with contain: true, the same as well (Koa ignores late setters; nothing here would crash)', async () => {
    for (const path of LATE_PATHS) {
      const bare = await observe(koaApp(), path, {});
      const contained = await observe(koaApp(koaHeaderGuard({ contain: true, logger: { warn: () => undefined } }) as Koa.Middleware), path, {});
      if (path === '/raw-late-header') {
        // Containment's one change: Node's ERR_HTTP_HEADERS_SENT from a late raw setHeader is not thrown.
        assert.deepEqual({ ...contained, thrown: [] }, { ...bare, thrown: [] });
        assert.equal(bare.thrown.length, 1);
        assert.deepEqual(contained.thrown, []);
      } else {
        assert.deepEqual(contained, bare, path);
      }
    }
  });
});
