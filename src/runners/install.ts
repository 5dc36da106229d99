/**
 * The process-wide guard the runner entries install (internal): log mode, so that nothing the app
 * does can swallow a violation (no throw for an error handler or a try/catch to catch); contain,
 * so that a late call from a timer after its test ended becomes a failure of that test instead of
 * an uncaught exception that aborts the run; and no log line of its own, so that each report is
 * printed once, in the failure of its test.
 */
import { engine } from '../engine.js';

/** Install the guard for a test run (once per process: the first install wins). */
export function installForTests(): void {
  engine.installPreload({ mode: 'log', contain: true, onViolation: () => undefined });
}
