/**
 * header-guard/vitest: each vitest test fails on the violations of its own requests.
 *
 * ```js
 * // vitest.config.mjs
 * export default { test: { setupFiles: ['header-guard/vitest'] } };
 * ```
 *
 * The entry is ESM (vitest cannot be required; `require` gets only the function below): it
 * imports vitest's hooks and hands them to {@link registerVitestHooks}, which fails each test in an
 * `afterEach` with one error holding each of its reports (both sites) once. A violation that comes after its test ended fails the next
 * test, or the file (an `afterAll` hook), saying "after "<test>" ended".
 *
 * @packageDocumentation
 */
import { registerHooks } from './hooks.js';
import { requireRunner, resolvedPackage } from './minimum.js';

type Register = (fn: (...args: never[]) => unknown) => unknown;

/**
 * Register the hooks on vitest's API (the ESM entry does it; call it yourself only to wire your
 * own copy of vitest's hooks).
 *
 * @public
 */
export function registerVitestHooks(vitest: { beforeEach: Register; afterEach: Register; afterAll: Register }): void {
  // Vitest older than the lines header-guard supports is refused at start-up (runners/minimum.ts).
  requireRunner('vitest', resolvedPackage('vitest'));
  registerHooks({
    ...vitest,
    testName(args) {
      const task = (args[0] as { task?: { name?: unknown } } | undefined)?.task;
      return typeof task?.name === 'string' ? task.name : '(unnamed test)';
    },
  });
}
