// The runnable examples in examples/ print what the README and docs/ say they print, run as
// documented (`node --import tsx examples/<name>/...` after `npm run build`), importing the
// package by its name as a user would: `header-guard`, `header-guard/koa`, ... resolve to dist/
// through package.json's exports.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..');

function runExample(file: string, env: Record<string, string> = {}) {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, file)], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  assert.equal(child.status, 0, child.stderr);
  return child;
}

describe('examples/production', () => {
  it('logs structured reports through pino (adaptive: both sites from the second one), dedupes, and serves stats()', () => {
    const { stdout } = runExample('examples/production/app.ts', { NODE_ENV: 'production' });
    const lines = stdout.trim().split('\n');
    const logs = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(logs.length, 2, stdout);
    assert.equal(logs[0]?.kind, 'late-status');
    assert.equal(logs[0]?.route, '/orders/:id');
    assert.match(String(logs[0]?.offending), /^examples\/production\/app\.ts:\d+:\d+$/);
    assert.equal(logs[0]?.firstSent, undefined);
    assert.match(String(logs[1]?.firstSent), /^examples\/production\/app\.ts:\d+:\d+$/);
    const statsLine = lines.find((line) => line.startsWith('stats: '));
    assert.ok(statsLine, stdout);
    const snapshot = JSON.parse(statsLine.slice('stats: '.length)) as { total: number; byRoute: Record<string, unknown> };
    assert.equal(snapshot.total, 3);
    assert.deepEqual(snapshot.byRoute['GET /orders/:id'], { 'late-status': 3 });
  });
});

describe('examples/plain-http', () => {
  it('reports the late header from a timer, naming both lines, and keeps serving', () => {
    const { stdout, stderr } = runExample('examples/plain-http/server.ts');
    assert.match(stdout, /client got: hello\nclient got: hello\nserver still up/);
    assert.match(stderr, /late call: res\.setHeader\('x-cache'\)\n\s+at Timeout\._onTimeout \(examples\/plain-http\/server\.ts:\d+:\d+\)/);
    assert.match(stderr, /sent and ended by res\.end\(\), [\d.]+ ms earlier:\n\s+at handler \(examples\/plain-http\/server\.ts:\d+:\d+\)/);
  });
});

describe('examples/typescript', () => {
  it('compiled by tsc and run with --enable-source-maps, the report names the .ts lines', () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const build = spawnSync(process.execPath, [tsc, '-p', 'examples/typescript'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stdout);
    const child = spawnSync(process.execPath, ['--enable-source-maps', 'examples/typescript/dist/app.js'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    const source = readFileSync(join(ROOT, 'examples', 'typescript', 'src', 'app.ts'), 'utf8').split('\n');
    const line = (text: string) => source.findIndex((l) => l.includes(text)) + 1;
    assert.ok(child.stderr.includes(`at examples/typescript/src/app.ts:${line('res.json(user)')}:`), child.stderr);
    assert.ok(child.stderr.includes(`at examples/typescript/src/app.ts:${line("res.status(404)")}:`), child.stderr);
    assert.ok(!child.stderr.includes('dist/app.js'), child.stderr);
  });
});

describe('examples/fastify', () => {
  it('reports the returned value after reply.send() and the late reply.code(), naming both lines', () => {
    const { stdout, stderr } = runExample('examples/fastify/app.ts');
    assert.match(stdout, /client: \/profile -> 401 \{"error":"login first"\}\nclient: \/export -> 200 \{"started":true\}/);
    assert.match(stderr, /the handler returned a value after reply\.send\(\) answered[^\n]*\[ERR_HEADER_GUARD_DOUBLE_SEND\]\n  late call: return <value>[^\n]*\n[^\n]*\n  sent and ended by reply\.send\(\), [\d.]+ ms earlier:\n\s+at requireUser \(examples\/fastify\/app\.ts:\d+:\d+\)/);
    assert.match(stderr, /reply\.code\(500\) was called after the response headers were sent[^\n]*\[ERR_HEADER_GUARD_LATE_STATUS\]\n  late call: reply\.code\(500\)\n\s+at Timeout\._onTimeout \(examples\/fastify\/app\.ts:\d+:\d+\)\n  sent and ended by reply\.send\(\), [\d.]+ ms earlier:\n\s+at [^\n]*\(examples\/fastify\/app\.ts:\d+:\d+\)/);
  });
});

describe('examples/koa', () => {
  it('reports the late ctx.status = and ctx.set() from an un-awaited promise, naming both lines', () => {
    const { stdout, stderr } = runExample('examples/koa/app.ts');
    assert.match(stdout, /^client got 200 \{"id":1,"name":"Ada"\}$/m);
    assert.match(stderr, /ctx\.status = 201 was called after the response headers were sent[^\n]*\[ERR_HEADER_GUARD_LATE_STATUS\]\n  late call: ctx\.status = 201\n\s+at examples\/koa\/app\.ts:\d+:\d+\n  sent and ended by ctx\.body =, [\d.]+ ms earlier:\n\s+at examples\/koa\/app\.ts:\d+:\d+/);
    assert.match(stderr, /ctx\.set\('X-Audit'\) was called after the response headers were sent[^\n]*\[ERR_HTTP_HEADERS_SENT\]\n  late call: ctx\.set\('X-Audit'\)\n\s+at examples\/koa\/app\.ts:\d+:\d+/);
  });
});

describe('examples import the package by its name, as a user does', () => {
  it('no example imports the source tree; each import of header-guard is one of its documented entries', () => {
    const entries = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports)
      .map((entry) => (entry === '.' ? 'header-guard' : `header-guard/${entry.slice(2)}`));
    const files = readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.(ts|mts|js|mjs|cjs)$/.test(file) && !/(^|\/)(node_modules|dist)\//.test(file));
    assert.ok(files.length > 20, files.join(', '));
    for (const file of files) {
      const text = readFileSync(join(ROOT, 'examples', file), 'utf8');
      for (const [, relative] of text.matchAll(/(?:from |import |require\()'(\.{1,2}\/[^']*)'/g)) {
        const target = join(ROOT, 'examples', dirname(file), relative as string);
        assert.ok(target.startsWith(join(ROOT, 'examples') + sep), `${file} imports ${relative}, outside examples/`);
      }
      for (const [, name] of text.matchAll(/(?:from |require\(|setupFiles(?:AfterEnv)?: \[|require: \[)'(header-guard[^']*)'/g)) assert.ok(entries.includes(name as string), `${file}: ${name}`);
    }
  });
});
