// DEBUG=header-guard traces each transition with its call site; `npm run demo` prints a report
// that names both sites.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markerSite } from './helpers.js';

const DEBUG_APP = join(__dirname, 'fixtures', 'debug-app.ts');

describe('DEBUG=header-guard', () => {
  it('traces the flush, the end and the violation with their sites', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', DEBUG_APP], {
      encoding: 'utf8',
      timeout: 20000,
      env: { ...process.env, DEBUG: 'header-guard', DEBUG_COLORS: 'false' },
    });
    assert.equal(child.status, 0, child.stderr);
    const out = child.stderr;
    assert.ok(out.includes(`GET /stream: headers sent by res.write() at ${markerSite(DEBUG_APP, 'debug:write')}`), out);
    assert.ok(out.includes(`GET /stream: ended by res.end() at ${markerSite(DEBUG_APP, 'debug:end')}`), out);
    assert.ok(out.includes(`GET /json: body claimed by res.json() at ${markerSite(DEBUG_APP, 'debug:json')}`), out);
    assert.ok(out.includes('header-guard violation late-status'), out);
    // Under DEBUG the report carries the response's timeline.
    assert.match(out, /timeline \(ms since header-guard saw the response\):\n\s+\+[\d.]+\s+res\.json\(\) claims the body/);
    assert.ok(out.includes(markerSite(DEBUG_APP, 'debug:late')), out);
  });

  it('is silent without DEBUG', () => {
    const env = { ...process.env };
    delete env.DEBUG;
    const child = spawnSync(process.execPath, ['--import', 'tsx', DEBUG_APP], { encoding: 'utf8', timeout: 20000, env });
    assert.equal(child.status, 0, child.stderr);
    assert.ok(!child.stderr.includes('headers sent by'), child.stderr);
    assert.match(child.stderr, /^header-guard: res\.status\(500\) was called after the response headers were sent/m);
  });
});

describe('npm run demo', () => {
  it('prints the report with both sites of the missing return', () => {
    const root = join(__dirname, '..');
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'examples', 'basic', 'app.ts')], { encoding: 'utf8', timeout: 30000, cwd: root });
    assert.equal(child.status, 0, child.stderr);
    const demo = join(root, 'examples', 'basic', 'app.ts');
    const lineOf = (text: string) => readFileSync(demo, 'utf8').split('\n').findIndex((line) => line.includes(text)) + 1;
    const shown = (pattern: string) => child.stderr.split('\n').filter((line) => line.includes(pattern)).length;
    assert.match(child.stderr, /res\.json\(\) was called after the response was already sent by res\.json\(\)/);
    assert.equal(shown(`at examples/basic/app.ts:${lineOf('...so this runs too')}:`), 1, child.stderr);
    assert.equal(shown(`at fail (examples/basic/app.ts:${lineOf('res.status(status).json')}:`), 1, child.stderr);
    assert.equal(shown(`at examples/basic/app.ts:${lineOf('the bug: no `return`')}:`), 1, child.stderr);
    assert.ok(!child.stderr.includes('not-printed'), 'query strings are not printed');
    assert.match(child.stdout, /client got: 400 \{"error":"id must be a number"\}/);
  });
});
