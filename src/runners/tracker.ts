/**
 * Which test each violation belongs to (internal; shared by header-guard/testing and the runner
 * entries). A violation belongs to the test that was running when its request started (Node's
 * `http.server.request.start` channel), or, for a response no server started, to the test running
 * when it happened. Runner entries say when a test starts and ends; at its end a test takes the
 * violations that are its own, plus those of tests that had already ended when they came (a timer
 * that fired late), each named "after "<test>" ended".
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { setImmediate as realSetImmediate } from 'node:timers';
import type { Violation } from '../types.js';

/** A test as the tracker knows it. */
export interface TestRef {
  readonly name: string;
  ended: boolean;
}

/** One collected violation and the test it belongs to (none: no test was running). */
export interface Entry {
  violation: Violation;
  test: TestRef | undefined;
}

/** Every violation collected and not yet taken by a test or an assertion, oldest first. */
export const entries: Entry[] = [];

/** The tests running now, innermost last (node:test nests subtests; the others run one at a time). */
const running: TestRef[] = [];
/**
 * The test that was running when a request started, kept on the request under a registered
 * symbol: jest loads a copy of this module per test file, and a request of one file whose late
 * call comes while the next file runs must still be known as the earlier test's.
 */
const kTest = Symbol.for('header-guard.test');
type Owned = { [kTest]?: TestRef };

/** The test running now, if any. */
function current(): TestRef | undefined {
  return running[running.length - 1];
}

function onRequestStart(message: unknown): void {
  const test = current();
  const request = (message as { request?: unknown }).request;
  if (test !== undefined && request !== null && typeof request === 'object') (request as Owned)[kTest] = test;
}

function onViolation(message: unknown): void {
  const { violation, req } = message as { violation: Violation; req?: unknown };
  const owner = req !== null && typeof req === 'object' ? (req as Owned)[kTest] : undefined;
  entries.push({ violation, test: owner ?? current() });
}

/** Channels subscribed with the channel object's own method (Node 18.0-18.6), held so they live. */
const held = new Set<diagnosticsChannel.Channel>();

/** Subscribe to a channel; returns the unsubscribe. */
function subscribe(name: string, listener: (message: unknown) => void): () => void {
  if (typeof diagnosticsChannel.subscribe === 'function') {
    diagnosticsChannel.subscribe(name, listener);
    return () => diagnosticsChannel.unsubscribe(name, listener);
  }
  const channel = diagnosticsChannel.channel(name);
  channel.subscribe(listener);
  held.add(channel);
  return () => {
    channel.unsubscribe(listener);
    held.delete(channel);
  };
}

const unsubscribers = [subscribe('http.server.request.start', onRequestStart), subscribe('header-guard:violation', onViolation)];

/**
 * Stop listening (jest and vitest load this module once per test file: the copy of a finished file
 * lets go, so that only the running file's copy collects).
 */
export function detach(): void {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
}

/** A test starts: requests from now on are its own, until it ends or a subtest starts. */
export function testStarted(name: string): TestRef {
  const test: TestRef = { name, ended: false };
  running.push(test);
  return test;
}

/** A test is over, without taking its violations (they are then reported as late, by the next test). */
export function markEnded(test: TestRef): void {
  test.ended = true;
  const index = running.lastIndexOf(test);
  if (index !== -1) running.splice(index, 1);
}

/** Take out the entries that match, oldest first. */
function take(matches: (entry: Entry) => boolean): Entry[] {
  const taken: Entry[] = [];
  for (let index = 0; index < entries.length; ) {
    const entry = entries[index] as Entry;
    if (matches(entry)) {
      taken.push(entry);
      entries.splice(index, 1);
    } else {
      index++;
    }
  }
  return taken;
}

/** Whether an entry is owed to no running test: its test ended, or no test was running. */
const orphaned = (entry: Entry): boolean => entry.test === undefined || entry.test.ended;

/** The error that fails a test: the reports, with no frames of its own (they would name the runner hook). */
export function violationError(name: string, message: string, violations: Violation[] = []): Error & { violations: Violation[] } {
  const error = new Error(message) as Error & { violations: Violation[] };
  error.name = name;
  // Not enumerable: reporters that print an error's own properties would print each report again.
  Object.defineProperty(error, 'violations', { value: violations, enumerable: false, writable: true, configurable: true });
  error.stack = `${name}: ${message}`;
  return error;
}

/** An error that runners print as a failed assertion (code ERR_ASSERTION), with our message. */
export function assertionError(message: string, violations: Violation[] = []): Error & { violations: Violation[] } {
  const error = violationError('AssertionError', message, violations) as Error & { code: string; violations: Violation[] };
  error.code = 'ERR_ASSERTION';
  return error;
}

/** The failure for these entries, or undefined when there are none. `during` titles the test's own. */
function failure(own: Entry[], late: Entry[]): (Error & { violations: Violation[] }) | undefined {
  if (own.length === 0 && late.length === 0) return undefined;
  const parts: string[] = [];
  if (own.length > 0) {
    parts.push(`header-guard: ${own.length} violation${own.length === 1 ? '' : 's'} during this test:\n\n${own.map((entry) => entry.violation.message).join('\n\n')}`);
  }
  for (const entry of late) {
    const when = entry.test === undefined ? 'outside any test' : `after "${entry.test.name}" ended`;
    parts.push(`header-guard: ${when}: ${entry.violation.message}`);
  }
  // Not an AssertionError: jest would print an empty expected/received diff for one.
  return violationError('HeaderGuardViolation', parts.join('\n\n'), [...own, ...late].map((entry) => entry.violation));
}

/**
 * A test ends: take its violations and the late ones of tests that ended before; returns the error
 * that fails it, or undefined.
 */
export function testEnded(test: TestRef): (Error & { violations: Violation[] }) | undefined {
  markEnded(test);
  const mine = take((entry) => entry.test === test);
  const late = take(orphaned);
  return failure(mine, late);
}

/** The run (or file) ends: the error for every violation no test took, or undefined. */
export function runEnded(): (Error & { violations: Violation[] }) | undefined {
  return failure([], take(() => true));
}

/**
 * Let the calls that follow a response in the same turn (a `next()` after `res.json()`, a rejected
 * promise) be reported before a test is judged. Node's own setImmediate: fake timers do not hold it.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

let exitHooked = false;

/**
 * For runners whose process is the test process (node:test, mocha): violations that come after the
 * last chance to fail a test are printed at exit, and the exit code is 1. `force`: exit at once
 * (for mocha, whose own exit listener, added later, would set the exit code back to its count of
 * failures).
 */
export function reportLeftoversAtExit(force = false): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    const error = runEnded();
    if (error === undefined) return;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
    if (force) process.exit(1);
  });
}
