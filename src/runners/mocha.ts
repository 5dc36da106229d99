/**
 * header-guard/mocha: each mocha test fails on the violations of its own requests, and the run
 * goes on.
 *
 * ```sh
 * mocha --require header-guard/mocha        # or "require": ["header-guard/mocha"] in .mocharc
 * ```
 *
 * A root hook plugin (mocha loads the exported `mochaHooks` of a `--require`d module). Mocha
 * reports a test as passed before its `afterEach` hooks run, and a failing `afterEach` hook stops
 * the rest of the suite, so the check cannot live in a hook: the root `beforeEach` wraps the test's
 * own function, which fails on the test's violations when the test is done. A violation that comes
 * after its test ended fails the next test, or the run (a root `afterAll` hook), saying
 * "after "<test>" ended"; one that comes after even that is printed at exit, and the exit code is 1.
 * Root hook plugins need mocha 8 or later: an older mocha is refused at start-up (runners/minimum.ts).
 *
 * @packageDocumentation
 */
import { installForTests } from './install.js';
import { packageAbove, requireRunner, type FoundRunner } from './minimum.js';
import { markEnded, reportLeftoversAtExit, runEnded, settle, testEnded, testStarted, type TestRef } from './tracker.js';

/** A test function as mocha calls it: with a `done` callback when it declares one. */
type TestFunction = (this: unknown, done?: (error?: unknown) => void) => unknown;

/** The parts of mocha's Test this module uses. */
interface MochaTest {
  fn?: TestFunction;
  fullTitle(): string;
}

/** The parts of mocha's hook context this module uses. */
interface HookContext {
  currentTest?: MochaTest;
}

/** The wrapped test function's own, so that a retried (cloned) test is wrapped only once. */
const kOriginal = Symbol('header-guard.original');
type Wrapped = TestFunction & { [kOriginal]?: TestFunction };

/** The test the root hooks are around now. */
let currentRef: TestRef | undefined;

/** Add this test's report to the error it failed with on its own, so that no report is lost. */
function withReport(error: unknown, report: Error | undefined): unknown {
  if (report === undefined) return error;
  if (error instanceof Error) {
    try {
      error.message += `\n\n${report.message}`;
      return error;
    } catch {
      return report;
    }
  }
  return report;
}

/** A wrapper with the same arity as the test (mocha calls a function that takes `done` differently). */
function wrap(original: TestFunction, test: TestRef): Wrapped {
  const wrapped: Wrapped = original.length > 0
    ? function (this: unknown, done?: (error?: unknown) => void) {
      original.call(this, (error?: unknown) => {
        void settle().then(() => {
          const report = testEnded(test);
          done?.(error !== undefined && error !== null ? withReport(error, report) : report);
        });
      });
    }
    : async function (this: unknown) {
      let result: unknown;
      try {
        result = await original.call(this);
      } catch (error) {
        await settle();
        throw withReport(error, testEnded(test));
      }
      await settle();
      const report = testEnded(test);
      if (report !== undefined) throw report;
      return result;
    };
  wrapped[kOriginal] = original;
  return wrapped;
}

/**
 * The mocha running this process: the package of its script (`bin/mocha`, or a parallel
 * worker's), else the CommonJS mocha of an older line in the module cache. Undefined when mocha
 * is not what runs (its programmatic API from a script of the user's).
 */
function runningMocha(): FoundRunner | undefined {
  const fromScript = packageAbove(process.argv[1], 'mocha');
  if (fromScript !== undefined) return fromScript;
  for (const file of Object.keys(require.cache)) {
    if (/[\\/]lib[\\/]mocha\.js$/.test(file)) {
      const found = packageAbove(file, 'mocha');
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

// Before anything else: an old mocha would ignore the hooks below and pass every test.
requireRunner('mocha', runningMocha());
installForTests();
reportLeftoversAtExit(true);

/**
 * Mocha's root hooks: pass `--require header-guard/mocha` and mocha finds them.
 *
 * @public
 */
export const mochaHooks = {
  beforeEach(this: HookContext): void {
    const test = this.currentTest;
    if (test === undefined || typeof test.fn !== 'function') return;
    currentRef = testStarted(test.fullTitle());
    const original = (test.fn as Wrapped)[kOriginal] ?? test.fn;
    test.fn = wrap(original, currentRef);
  },
  afterEach(): void {
    // The wrapper has judged the test already; this covers a test whose beforeEach hook failed.
    if (currentRef !== undefined) markEnded(currentRef);
    currentRef = undefined;
  },
  afterAll(): void {
    const error = runEnded();
    if (error !== undefined) throw error;
  },
};
