// Outgoing requests (header-guard/outgoing) with http-proxy-middleware 3 in front of a real
// upstream: an async proxyReq hook sets a header after the request's headers went out. Without
// the guard the process dies; in log mode the report (both sites) is written and then the
// process dies as before (log mode only observes); with contain: true it keeps serving.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..');
const FIXTURE = 'test/fixtures/proxy-app.ts';
const hookLine = readFileSync(join(ROOT, FIXTURE), 'utf8').split('\n').findIndex((l) => l.includes("proxyReq.setHeader('x-request-id'")) + 1;

function run(mode: 'off' | 'log' | 'contain') {
  return spawnSync(process.execPath, ['--import', 'tsx', FIXTURE], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, PROXY_GUARD: mode } });
}

const REPORT = new RegExp([
  String.raw`header-guard: proxyReq\.setHeader\('x-request-id'\) was called after the request's headers were sent .*\[ERR_HTTP_HEADERS_SENT\]`,
  String.raw`  late call: proxyReq\.setHeader\('x-request-id'\)`,
  String.raw`      at ProxyServer\.proxyReq \(test/fixtures/proxy-app\.ts:${hookLine}:\d+\)`,
  String.raw`  the request's headers were sent by proxyReq\.end\(\), [\d.]+ ms earlier:`,
  String.raw`      at .*`,
  String.raw`  outgoing request: GET http://127\.0\.0\.1(?::\d+)?/orders, made at .*node_modules/http-proxy/lib/http-proxy/passes/web-incoming\.js:\d+:\d+\)`,
].join('\n'));

describe('outgoing requests: http-proxy-middleware 3, a late proxyReq.setHeader', () => {
  it('without the guard: ERR_HTTP_HEADERS_SENT from the hook kills the process after the first request', () => {
    const child = run('off');
    assert.notEqual(child.status, 0);
    assert.match(child.stderr, /ERR_HTTP_HEADERS_SENT/);
    // The first client may or may not have printed its answer before the hook's throw.
    assert.ok((child.stdout.match(/client got/g)?.length ?? 0) <= 1, child.stdout);
    assert.doesNotMatch(child.stdout, /still up/);
  });

  it('log mode: the report names the hook and the send, then Node throws as before and the process dies', () => {
    const child = run('log');
    assert.notEqual(child.status, 0);
    assert.match(child.stderr, REPORT);
    assert.ok(child.stderr.indexOf('header-guard:') < child.stderr.indexOf('throw new ERR_HTTP_HEADERS_SENT'), child.stderr);
    assert.doesNotMatch(child.stdout, /still up/);
  });

  it('contain: true: each late call is reported, the request goes on without the header, the process keeps serving', () => {
    const child = run('contain');
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, 'client got: upstream saw x-request-id=none\n'.repeat(2) + 'still up\n');
    assert.equal(child.stderr.match(/header-guard: proxyReq\.setHeader/g)?.length, 2, child.stderr);
    assert.match(child.stderr, REPORT);
    assert.doesNotMatch(child.stderr, /token|secret/);
  });
});
