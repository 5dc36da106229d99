// header-guard/register adopts the responses of Fastify's inject() (no listening server, no
// request-start event): a late raw call on reply.raw is reported in log mode and fails the run
// in throw mode (the preload's default), naming both lines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markerSite } from './helpers.js';

const ROOT = join(__dirname, '..');
const FIXTURE = join(__dirname, 'fixtures', 'fastify-inject-register.js');

function run(mode: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.HEADER_GUARD_MODE;
  if (mode !== undefined) env.HEADER_GUARD_MODE = mode;
  const child = spawnSync(process.execPath, ['--require', './dist/register.js', FIXTURE], { cwd: ROOT, encoding: 'utf8', timeout: 60000, env });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('register and Fastify inject()', () => {
  it('log mode: reported before Node throws, as it throws without the guard', () => {
    const result = run('log');
    assert.match(result.stdout, /client: 200 first/);
    assert.ok(result.stderr.includes("res.setHeader('x-late') was called after the response headers were sent"), result.stderr);
    assert.ok(result.stderr.includes(markerSite(FIXTURE, 'inject:late')), result.stderr);
    assert.ok(result.stderr.indexOf('header-guard:') < result.stderr.indexOf('ERR_HTTP_HEADERS_SENT]:'), 'the report comes first');
    assert.match(result.stderr, /code: 'ERR_HTTP_HEADERS_SENT'/);
    assert.notEqual(result.status, 0, 'Node\'s own uncaught error, as without the guard');
    assert.ok(!result.stderr.includes('secret'), 'no header value');
  });

  it('throw mode (the default): the run fails with the HeaderGuardError naming the late line', () => {
    const result = run(undefined);
    assert.notEqual(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /HeaderGuardError: header-guard: res\.setHeader\('x-late'\)/);
    assert.ok(result.stderr.includes(markerSite(FIXTURE, 'inject:late')), result.stderr);
    assert.ok(!result.stderr.includes('secret'), 'no header value');
  });

  it('without the preload nothing reports it (inject() has no server to announce it)', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawnSync(process.execPath, [FIXTURE], { cwd: ROOT, encoding: 'utf8', timeout: 60000, env });
    assert.ok(!child.stderr.includes('header-guard'), child.stderr);
    assert.match(child.stderr, /ERR_HTTP_HEADERS_SENT/);
  });
});
