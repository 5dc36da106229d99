// NestJS (Express platform) through header-guard/nest: the example's e2e test (testing module +
// supertest) asserts, for each classic bug, a report naming the app's .ts lines at both ends;
// this runs it in CI, and checks that an Express-only use of the guard never loads Nest.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..');

describe('NestJS', () => {
  it("examples/nestjs: the e2e test's five cases pass (each asserts its report)", () => {
    // Without NODE_TEST_CONTEXT the child's runner prints its own report instead of feeding ours.
    const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
    const child = spawnSync(process.execPath, ['--enable-source-maps', '--import', 'tsx', '--test', '--test-reporter=spec', 'test/orders.e2e.test.mts'], {
      cwd: join(ROOT, 'examples/nestjs'), encoding: 'utf8', timeout: 120_000, env: { ...env, NODE_ENV: 'test' },
    });
    assert.equal(child.status, 0, child.stdout + child.stderr);
    assert.match(child.stdout, /pass 5/);
    assert.match(child.stdout, /fail 0/);
    // The command docs/nestjs.md gives prints the six reports it shows, each naming the method
    // (the filter's res.status(500).json() is one statement, one report).
    const reports = child.stdout.split(/^(?=header-guard: )/m).filter((part) => part.startsWith('header-guard: '));
    assert.equal(reports.length, 6, child.stdout);
    for (const method of ['summary', 'findOne', 'secret', 'exportCsv', 'exportCsv', 'receipt']) {
      const report = reports.shift() ?? '';
      assert.match(report, new RegExp(`handled by OrdersController\\.${method} \\(src/orders\\.controller\\.mts:\\d+\\)`), report);
      assert.match(report, /(sent and ended|first sent) by res\.(json|write)\(\), [\d.]+ ms earlier:\n\s+at \w+\.\w+ \(src\/[\w.]+\.mts:\d+:\d+\)/, report);
    }
  });

  it('an Express-only app loads neither Nest nor rxjs nor the adapters', () => {
    const script = "require('header-guard'); require('express')().use(require('header-guard').headerGuard());"
      + "const loaded = Object.keys(require.cache).filter((f) => /@nestjs|rxjs|adapters/.test(f)); console.log(JSON.stringify(loaded));";
    const child = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), []);
  });
});
