/**
 * header-guard/testing: collect the violations of the guards in this process, for assertions in
 * any test runner.
 *
 * ```ts
 * import { assertNoViolations, expectViolation, resetViolations } from 'header-guard/testing';
 * beforeEach(resetViolations);
 * afterEach(assertNoViolations);
 * ```
 *
 * Works with `app.use(headerGuard())`, with `header-guard/register` and with the runner entries
 * (`header-guard/node-test`, `/mocha`, `/vitest`, `/jest`), which fail each test on its own
 * violations by themselves. Use `log` mode (`HEADER_GUARD_MODE=log` with the register preload;
 * the runner entries always use it) when a test expects a violation: in `throw` mode the late call
 * throws, and an error Express swallowed is rethrown, which fails the test on its own.
 *
 * @packageDocumentation
 */
import { assertionError, entries, type Entry } from './runners/tracker.js';
import type { Violation, ViolationKind } from './types.js';

/**
 * The violations collected since the last {@link resetViolations}, oldest first.
 *
 * @public
 */
export function getViolations(): readonly Violation[] {
  return entries.map((entry) => entry.violation);
}

/**
 * Forget every collected violation: call it before each test. Under a runner entry, violations
 * owed to a test that has ended (a late timer) are kept: the runner entry fails the next test on them.
 *
 * @public
 */
export function resetViolations(): void {
  const kept = entries.filter((entry) => entry.test?.ended === true);
  entries.splice(0, entries.length, ...kept);
}

/**
 * Throw an `AssertionError`-shaped error listing every report collected since the last reset
 * (its `violations` property holds them), then reset. Call it after each test. Passes when there are none.
 *
 * @public
 */
export function assertNoViolations(): void {
  if (entries.length === 0) return;
  const reports = entries.splice(0, entries.length).map((entry: Entry) => entry.violation);
  throw assertionError(
    `header-guard: ${reports.length} violation${reports.length === 1 ? '' : 's'} during this test:\n\n${reports.map((v) => v.message).join('\n\n')}`,
    reports,
  );
}

/**
 * Assert that a violation (of `kind`, when given) was collected, and take it out of the
 * collection so that {@link assertNoViolations} (and the runner entries) do not fail on it. Returns it.
 *
 * @param kind - the expected kind; any kind when omitted.
 * @public
 */
export function expectViolation(kind?: ViolationKind): Violation {
  const index = entries.findIndex((entry) => kind === undefined || entry.violation.kind === kind);
  if (index === -1) {
    const seen = entries.length === 0 ? 'none' : entries.map((entry) => entry.violation.kind).join(', ');
    throw assertionError(`header-guard: expected ${kind === undefined ? 'a violation' : `a ${kind} violation`}; collected: ${seen}.`);
  }
  return (entries.splice(index, 1)[0] as Entry).violation;
}
