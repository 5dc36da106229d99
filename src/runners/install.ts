/**
 * The process-wide guard the runner entries install (internal): log mode, so that nothing the app
 * does can swallow a violation (no throw for an error handler or a try/catch to catch), and no log
 * line of its own, so that each report is printed once, in the failure of its test.
 */
import { installPreload } from '../preload.js';

/** Install the guard for a test run. The lead's `contain` option (late calls from timers turned into reports) belongs here too. */
export function installForTests(): void {
  installPreload({ mode: 'log', onViolation: () => undefined });
}
