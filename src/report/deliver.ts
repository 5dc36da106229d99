/**
 * Delivering one guard's reports: to its `onViolation`, or else to its logger (stderr by
 * default) unless the report is thrown; the same violation at most once per dedupe window, with
 * a repeat count. Never throws: a throwing `onViolation` or logger is reported once, on stderr.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { colorize, useColor } from './codeframe.js';
import { describeError } from './build.js';
import type { ResolvedOptions } from '../options.js';
import type { CallSite, Violation } from '../types.js';

/** Most distinct violations the dedupe table remembers; the oldest is forgotten first. */
const MAX_REMEMBERED = 1000;

/** Write a line to stderr, in colour on a TTY; never throws. */
function writeStderr(message: string): void {
  try {
    process.stderr.write(`${useColor(process.stderr) ? colorize(message) : message}\n`);
  } catch {
    // Nowhere left to report to; the response goes on.
  }
}

/** What makes two violations "the same": kind and both sites (or the calls, when not captured). */
function dedupeKey(violation: Violation): string {
  const site = (callSite: CallSite | undefined, call: string | undefined) => (callSite === undefined ? call ?? '' : `${callSite.file}:${callSite.line}:${callSite.column}`);
  const offending = 'offending' in violation ? violation.offending : undefined;
  return `${violation.kind}|${site(offending, violation.call)}|${site(violation.firstSent, violation.firstSentCall)}`;
}

/** Delivers one guard's reports (internal). */
export class Reporter {
  private readonly seen = new Map<string, { last: number; repeats: number }>();
  /** A throwing onViolation or logger is reported once each, then its failures are silent. */
  private readonly failuresReported = new Set<'onViolation' | 'logger'>();

  constructor(private readonly options: ResolvedOptions) {}

  /**
   * Deliver one violation; `thrown`: it is also thrown, so the logger stays quiet; `printed`:
   * another guard on the response wrote it to stderr already, so the default stderr line is left
   * out (one print per violation, however many guards see it). Returns whether this call wrote
   * the default stderr line.
   */
  report(violation: Violation, req: IncomingMessage, res: ServerResponse, thrown: boolean, printed = false): boolean {
    if (!thrown && this.options.dedupeWindowMs > 0 && this.isRepeat(violation)) return false;
    const hook = this.options.onViolation;
    if (hook !== undefined) {
      this.call('onViolation', violation, () => hook(violation, req as never, res as never));
    } else if (!thrown) {
      const logger = this.options.logger;
      if (logger !== undefined) this.call('logger', violation, () => logger.warn(violation.message));
      else if (!printed) {
        writeStderr(violation.message);
        return true;
      }
    }
    return false;
  }

  /** Run the user's hook or logger; if it throws, say so once on stderr, with the report it lost. */
  private call(what: 'onViolation' | 'logger', violation: Violation, run: () => unknown): void {
    try {
      run();
    } catch (error) {
      if (this.failuresReported.has(what)) return;
      this.failuresReported.add(what);
      const name = what === 'logger' ? 'the logger\'s warn()' : 'onViolation';
      const message = `header-guard: ${name} threw (${describeError(error)}); this is reported once. The violation was:\n${violation.message}`;
      // A hook's failure goes to the logger's error() when there is one; a logger's own failure to stderr.
      const logger = this.options.logger;
      if (what === 'onViolation' && logger?.error !== undefined) {
        try {
          logger.error(message);
          return;
        } catch {
          // The logger fails too: stderr it is.
        }
      }
      writeStderr(message);
    }
  }

  /** Count a repeat inside the window (true: do not report); otherwise note the repeats on the violation. */
  private isRepeat(violation: Violation): boolean {
    const key = dedupeKey(violation);
    const now = Date.now();
    const entry = this.seen.get(key);
    if (entry !== undefined && now - entry.last < this.options.dedupeWindowMs) {
      entry.repeats++;
      return true;
    }
    if (entry !== undefined && entry.repeats > 0) {
      violation.repeated = entry.repeats;
      violation.message += `\n  (${entry.repeats} more time${entry.repeats === 1 ? '' : 's'} since it was last reported)`;
    }
    this.seen.delete(key);
    this.seen.set(key, { last: now, repeats: 0 });
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value as string);
    return false;
  }
}
