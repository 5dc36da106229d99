/**
 * header-guard/node-test: each node:test test fails on the violations of its own requests.
 *
 * ```sh
 * node --test --import header-guard/node-test
 * ```
 *
 * Registers root-level hooks from the preload (node:test runs them around every test and subtest
 * of every file): `beforeEach` notes the test, `afterEach` fails it with one error holding each of
 * its reports (both sites) once. A violation that comes after its test ended fails the next test,
 * or the file (a root `after` hook), saying "after "<test>" ended"; one that comes after even that
 * is printed at exit, and the exit code is 1.
 *
 * @packageDocumentation
 */
import { after, afterEach, beforeEach } from 'node:test';
import { installForTests } from './install.js';
import { reportLeftoversAtExit, runEnded, settle, testEnded, testStarted, type TestRef } from './tracker.js';

/** What the hooks receive: node:test's TestContext (only its name is read). */
interface Context {
  readonly name: string;
}

const tests = new WeakMap<Context, TestRef>();

installForTests();
reportLeftoversAtExit();

beforeEach((context: Context) => {
  tests.set(context, testStarted(context.name));
});

afterEach(async (context: Context) => {
  const test = tests.get(context);
  if (test === undefined) return;
  await settle();
  const error = testEnded(test);
  if (error !== undefined) throw error;
});

after(() => {
  const error = runEnded();
  if (error !== undefined) throw error;
});
