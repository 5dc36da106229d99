/**
 * header-guard/jest: each jest test fails on the violations of its own requests.
 *
 * ```js
 * // jest.config.js
 * module.exports = { setupFilesAfterEnv: ['header-guard/jest'] };
 * ```
 *
 * Registers `beforeEach`, `afterEach` and `afterAll` in each test file (jest's globals, or
 * `@jest/globals` when globals are off): `afterEach` fails the test with one error holding each of
 * its reports (both sites) once. A violation that comes after its test ended fails the next test,
 * or the file (an `afterAll` hook), saying "after "<test>" ended".
 *
 * @packageDocumentation
 */
import { registerHooks } from './hooks.js';
import { requireRunner, resolvedPackage } from './minimum.js';

type Register = (fn: (...args: never[]) => unknown) => unknown;

interface JestGlobals {
  beforeEach: Register;
  afterEach: Register;
  afterAll: Register;
  expect: { getState(): { currentTestName?: string } };
}

/** Jest's globals, or `@jest/globals` when `injectGlobals` is off. */
function jestGlobals(): JestGlobals {
  const scope = globalThis as Partial<JestGlobals>;
  if (typeof scope.afterEach === 'function' && scope.expect !== undefined) return scope as JestGlobals;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@jest/globals') as JestGlobals;
}

// Jest older than the lines header-guard supports is refused at start-up (runners/minimum.ts).
requireRunner('jest', resolvedPackage('jest'));
const runner = jestGlobals();
registerHooks({
  beforeEach: runner.beforeEach,
  afterEach: runner.afterEach,
  afterAll: runner.afterAll,
  testName: () => runner.expect.getState().currentTestName ?? '(unnamed test)',
});
