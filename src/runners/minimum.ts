/**
 * The oldest version of each test runner its entry serves, and the start-up check that refuses an
 * older one loudly (ERR_HEADER_GUARD_RUNNER_VERSION) instead of a run that passes while the entry
 * does nothing: mocha before root hook plugins loads `header-guard/mocha`, ignores its hooks, and
 * no test ever fails on a violation. The minimums are the ones package.json's peerDependencies
 * and docs/testing.md state. A runner whose version cannot be found is let through.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ErrorCodes, runnerTooOld } from '../errors.js';

/** The runners with an entry of their own, and the oldest major each entry serves. */
export const RUNNER_MINIMUMS = { mocha: 8, jest: 29, vitest: 3 } as const;

/** A runner with an entry of its own. */
export type Runner = keyof typeof RUNNER_MINIMUMS;

/** What the entry needs from its runner, for the error's message. */
const NEEDS: Record<Runner, string> = {
  mocha: 'root hook plugins (the `mochaHooks` of a --require\'d module); an older mocha ignores them, so no test would ever fail on a violation',
  jest: 'the jest lines header-guard supports',
  vitest: 'the vitest lines header-guard supports',
};

/** How many directories up from a runner's file its package.json may be. */
const MAX_LEVELS = 6;

/** A runner's package found on disk: its version and where. */
export interface FoundRunner {
  version: string;
  directory: string;
}

/** The package named `name` that `file` belongs to: the nearest package.json of that name above it, within a few levels. */
export function packageAbove(file: string | undefined, name: string): FoundRunner | undefined {
  if (typeof file !== 'string' || file === '') return undefined;
  let real = file;
  try {
    // node_modules/.bin/mocha is a link to the package's own script.
    real = realpathSync(file);
  } catch {
    // A file that is gone: its own path is all there is.
  }
  let directory = dirname(real);
  for (let level = 0; level < MAX_LEVELS; level++) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === name && typeof manifest.version === 'string') return { version: manifest.version, directory };
    } catch {
      // No package.json here, or an unreadable one: look further up.
    }
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return undefined;
}

/** The major of a version string (`7.1.2` is 7), when it has one. */
function majorOf(version: string): number | undefined {
  const match = /^v?(\d+)\./.exec(version);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Refuse a runner older than its entry serves: throw ERR_HEADER_GUARD_RUNNER_VERSION naming the
 * version found, the minimum, and what to do. Nothing happens when the runner was not found.
 */
export function requireRunner(runner: Runner, found: FoundRunner | undefined): void {
  if (found === undefined) return;
  const major = majorOf(found.version);
  const minimum = RUNNER_MINIMUMS[runner];
  if (major === undefined || major >= minimum) return;
  const where = relative(process.cwd(), found.directory) || found.directory;
  throw runnerTooOld(
    `header-guard/${runner} needs ${runner} ${minimum} or later: it relies on ${NEEDS[runner]}. This run uses ${runner} ${found.version} (${where}). `
    + `Upgrade it (npm install --save-dev ${runner}@latest), or load header-guard/register instead, which fails the whole run on a violation rather than the test it belongs to. [${ErrorCodes.RUNNER_VERSION}]`,
  );
}

/** The package named `name` as Node resolves it from this file (the copy the entry's own imports get), when it resolves. */
export function resolvedPackage(name: string): FoundRunner | undefined {
  try {
    return packageAbove(require.resolve(`${name}/package.json`), name);
  } catch {
    return undefined;
  }
}
