// The runner minimums (src/runners/minimum.ts): the check that refuses an old runner, on real
// package.json files (the installed mocha 7.1.2, jest, vitest, and a package written for the test),
// and the one number per runner that the code, package.json's peerDependencies and
// docs/testing.md all state. The refusal of a real old mocha run is in test/runners.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../src/index.js';
import { packageAbove, requireRunner, resolvedPackage, RUNNER_MINIMUMS, type Runner } from '../src/runners/minimum.js';

const ROOT = join(__dirname, '..');

/** What requireRunner throws for this runner and version, or undefined. */
function refusal(runner: Runner, version: string): (Error & { code?: string }) | undefined {
  try {
    requireRunner(runner, { version, directory: join(ROOT, 'node_modules', runner) });
    return undefined;
  } catch (error) {
    return error as Error & { code?: string };
  }
}

describe('runner minimums', () => {
  it('finds the package a runner script belongs to: mocha 7.1.2 from its bin, through a link too', () => {
    assert.equal(packageAbove(join(ROOT, 'node_modules/mocha7/bin/mocha'), 'mocha')?.version, '7.1.2');
    assert.equal(packageAbove(join(ROOT, 'node_modules/.bin/mocha'), 'mocha')?.version, JSON.parse(readFileSync(join(ROOT, 'node_modules/mocha/package.json'), 'utf8')).version);
    assert.equal(packageAbove(join(ROOT, 'src/index.ts'), 'mocha'), undefined);
    assert.equal(packageAbove(undefined, 'mocha'), undefined);
  });

  it('refuses each runner below its minimum with a stable code, naming the version, the minimum and what to do', () => {
    for (const [runner, minimum] of Object.entries(RUNNER_MINIMUMS) as Array<[Runner, number]>) {
      const error = refusal(runner, `${minimum - 1}.9.9`);
      assert.ok(error, `${runner} ${minimum - 1}.9.9 is refused`);
      assert.equal(error.code, ErrorCodes.RUNNER_VERSION);
      assert.match(error.message, new RegExp(`header-guard/${runner} needs ${runner} ${minimum} or later`));
      assert.match(error.message, new RegExp(`This run uses ${runner} ${minimum - 1}\\.9\\.9 \\(node_modules/${runner}\\)`));
      assert.match(error.message, /npm install --save-dev .*@latest/);
      assert.equal(refusal(runner, `${minimum}.0.0`), undefined, `${runner} ${minimum}.0.0 is accepted`);
      assert.equal(refusal(runner, 'not a version'), undefined, 'a version it cannot read is let through');
    }
    assert.doesNotThrow(() => requireRunner('mocha', undefined));
  });

  it('accepts the jest and vitest installed here, found as the entries find them', () => {
    for (const runner of ['jest', 'vitest'] as const) {
      const found = resolvedPackage(runner);
      assert.ok(found, `${runner} resolves`);
      assert.doesNotThrow(() => requireRunner(runner, found));
    }
  });

  it('refuses an old package found on disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'header-guard-old-jest-'));
    try {
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'jest', version: '28.1.3' }));
      writeFileSync(join(dir, 'bin', 'jest.js'), '');
      assert.throws(() => requireRunner('jest', packageAbove(join(dir, 'bin', 'jest.js'), 'jest')), { code: ErrorCodes.RUNNER_VERSION });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the code, peerDependencies and docs/testing.md state the same minimums', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
    const docs = readFileSync(join(ROOT, 'docs/testing.md'), 'utf8');
    for (const [runner, minimum] of Object.entries(RUNNER_MINIMUMS)) {
      assert.equal(manifest.peerDependencies[runner], `>=${minimum}`, `peerDependencies.${runner}`);
      assert.match(docs, new RegExp(`\\| \`header-guard/${runner}\` \\| ${runner} ${minimum} \\|`), `docs/testing.md's row for ${runner}`);
      assert.ok(docs.includes(`\`${runner} >=${minimum}\``), `docs/testing.md names the peer range of ${runner}`);
    }
  });
});
