// The guard keeps responses on V8's fast paths: a response object in dictionary mode makes every
// property access on it slow for the rest of the request, which once cost Koa apps about 15 µs
// per request (the guard turned Koa's early own `statusCode` into an accessor). Checked with V8's
// own %HasFastProperties in a child process, on node:http (also with functions assigned over
// guarded methods on each response, as Next.js and compression do), Express 4 and 5, Koa and Fastify.
// A server's first response may be slow (its state slot is not reserved yet, src/slot.ts); every
// later one must not be. Under the preload, which gives every response its state at request
// start, none may be.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';

const FIXTURE = join(__dirname, 'fixtures', 'fast-properties.js');

it("every framework's guarded responses keep fast properties after a server's first, with the same statuses", () => {
  const child = spawnSync(process.execPath, ['--allow-natives-syntax', FIXTURE], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  const results = JSON.parse(child.stdout) as Record<string, { fast: boolean[]; statuses: number[] }>;
  assert.deepEqual(Object.keys(results), ['node:http', 'per-response functions', 'express 5', 'express 4', 'koa', 'fastify']);
  for (const [name, { fast, statuses }] of Object.entries(results)) {
    assert.deepEqual(fast.slice(1), fast.slice(1).map(() => true), `${name}: ${JSON.stringify(fast)}`);
    // Koa's /missing answers with the 404 Koa assigned before any middleware ran.
    assert.deepEqual(statuses, name === 'koa' ? [201, 201, 201, 404] : [201, 201, 201], name);
  }
});

it('under the preload (log mode) every response keeps fast properties, a server\'s first included', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, HEADER_GUARD_MODE: 'log' };
  delete env.NODE_TEST_CONTEXT;
  const child = spawnSync(process.execPath, ['--allow-natives-syntax', '--require', join(__dirname, '..', 'dist', 'register.js'), FIXTURE], { encoding: 'utf8', timeout: 60_000, env });
  assert.equal(child.status, 0, child.stderr);
  const results = JSON.parse(child.stdout) as Record<string, { fast: boolean[] }>;
  for (const [name, { fast }] of Object.entries(results)) assert.deepEqual(fast, fast.map(() => true), `${name}: ${JSON.stringify(fast)}`);
});
