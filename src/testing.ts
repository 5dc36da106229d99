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
 * Works with `app.use(headerGuard())` and with `header-guard/register`. Use `log` mode
 * (`HEADER_GUARD_MODE=log` with the preload) when a test expects a violation: in `throw` mode the
 * late call throws, and an error Express swallowed is rethrown, which fails the test on its own.
 *
 * @packageDocumentation
 */
import { subscribeForever } from './channels.js';
import type { Violation, ViolationKind } from './types.js';

/** The violations published since the last reset, oldest first. */
const collected: Violation[] = [];

/** Subscribed once for the whole process: the channel of every guard. */
subscribeForever('header-guard:violation', (message) => {
  collected.push((message as { violation: Violation }).violation);
});

/**
 * The violations collected since the last {@link resetViolations}, oldest first.
 *
 * @public
 */
export function getViolations(): readonly Violation[] {
  return collected.slice();
}

/**
 * Forget every collected violation: call it before each test.
 *
 * @public
 */
export function resetViolations(): void {
  collected.length = 0;
}

/**
 * Throw an `AssertionError`-shaped error listing every report collected since the last reset
 * (its `violations` property holds them), then reset. Call it after each test. Passes when there are none.
 *
 * @public
 */
export function assertNoViolations(): void {
  if (collected.length === 0) return;
  const reports = collected.splice(0, collected.length);
  const error = assertionError(
    `header-guard: ${reports.length} violation${reports.length === 1 ? '' : 's'} during this test:\n\n${reports.map((v) => v.message).join('\n\n')}`,
  ) as Error & { violations: Violation[] };
  error.violations = reports;
  throw error;
}

/** An error that test runners print as a failed assertion (code ERR_ASSERTION), with our message. */
function assertionError(message: string): Error {
  const error = new Error(message) as Error & { code: string };
  error.name = 'AssertionError';
  error.code = 'ERR_ASSERTION';
  return error;
}

/**
 * Assert that a violation (of `kind`, when given) was collected, and take it out of the
 * collection so that {@link assertNoViolations} does not fail on it. Returns it.
 *
 * @param kind - the expected kind; any kind when omitted.
 * @public
 */
export function expectViolation(kind?: ViolationKind): Violation {
  const index = collected.findIndex((violation) => kind === undefined || violation.kind === kind);
  if (index === -1) {
    const seen = collected.length === 0 ? 'none' : collected.map((violation) => violation.kind).join(', ');
    throw assertionError(`header-guard: expected ${kind === undefined ? 'a violation' : `a ${kind} violation`}; collected: ${seen}.`);
  }
  return collected.splice(index, 1)[0] as Violation;
}
