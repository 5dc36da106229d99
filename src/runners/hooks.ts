/**
 * Hooks shared by the runners whose setup files register `beforeEach`/`afterEach`/`afterAll` per
 * test file, and whose `afterEach` fails the test it follows without stopping the run: vitest and
 * jest (internal).
 */
import { installForTests } from './install.js';
import { detach, runEnded, settle, testEnded, testStarted, type TestRef } from './tracker.js';

/** A hook registrar: vitest's and jest's `beforeEach`, `afterEach`, `afterAll` all take a function. */
type Register = (fn: (...args: never[]) => unknown) => unknown;

/** The hook registrars of one runner, and how it names the test running now. */
export interface RunnerHooks {
  beforeEach: Register;
  afterEach: Register;
  afterAll: Register;
  /** The running test's name, from the hook's own arguments or the runner's state. */
  testName(hookArgs: readonly unknown[]): string;
}

/** Register the hooks of one test file. */
export function registerHooks(runner: RunnerHooks): void {
  installForTests();
  let test: TestRef | undefined;
  runner.beforeEach((...args: never[]) => {
    test = testStarted(runner.testName(args));
  });
  runner.afterEach(async () => {
    if (test === undefined) return;
    const ended = test;
    test = undefined;
    await settle();
    const error = testEnded(ended);
    if (error !== undefined) throw error;
  });
  runner.afterAll(() => {
    const error = runEnded();
    detach();
    if (error !== undefined) throw error;
  });
}
