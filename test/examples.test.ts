// The runnable examples in examples/ do what README says they do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
