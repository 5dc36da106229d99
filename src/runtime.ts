/**
 * Which JavaScript runtimes header-guard can guard, and how it steps aside where it cannot.
 *
 * The guard leans on what Node's `node:http` and V8 provide: the `http.server.request.start`
 * diagnostics channel (the register entry sees every response there), `Error.captureStackTrace`
 * with a function to skip (the two call sites of a report), and frames that stay on the stack
 * until the call returns. Node 20+ and Deno 2 provide all three. Bun does not (measured on Bun
 * 1.4.5): its `node:http` publishes no `http.server.request.start`, and JavaScriptCore drops the
 * frame of a function whose call to `res.json()` is in tail position in strict code
 * (`return res.json(x)` in an ES module), so a report would name Express's router instead of the
 * user's line. On such a runtime the guard must say so once and pass every response through
 * untouched: a guard that misreports, or a preload that silently guards nothing, is worse than none.
 *
 * @packageDocumentation
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** What the decision reads from the runtime; a parameter so that tests can describe other runtimes (internal). */
export interface RuntimeFacts {
  /** `process.versions`: `bun` and `deno` are set by those runtimes. */
  versions: Readonly<Record<string, string | undefined>>;
  /** `Error.captureStackTrace`, V8's (and JavaScriptCore's) stack capture. */
  captureStackTrace: unknown;
  /** `diagnostics_channel.channel`, through which the guard hears of each request. */
  channel: unknown;
}

/** The facts of this process (internal). */
export function currentFacts(): RuntimeFacts {
  return {
    versions: process.versions as Readonly<Record<string, string | undefined>>,
    captureStackTrace: (Error as { captureStackTrace?: unknown }).captureStackTrace,
    channel: (diagnosticsChannel as { channel?: unknown }).channel,
  };
}

/**
 * Why header-guard cannot guard responses in this runtime, or undefined when it can.
 *
 * @param facts - the runtime to judge; this process's by default.
 * @returns one sentence naming the runtime and what it lacks, fit to print as is.
 */
export function unsupportedRuntime(facts: RuntimeFacts = currentFacts()): string | undefined {
  const bun = facts.versions.bun;
  if (bun !== undefined) {
    return `header-guard does not support Bun (${bun}): its node:http publishes no 'http.server.request.start' ` +
      'diagnostics channel, and JavaScriptCore drops the frame of a call in tail position ' +
      '(`return res.json(x)` in an ES module), so reports could not name your own lines.';
  }
  if (typeof facts.captureStackTrace !== 'function') {
    return 'header-guard needs Error.captureStackTrace to name call sites, and this runtime has none.';
  }
  if (typeof facts.channel !== 'function') {
    return 'header-guard needs node:diagnostics_channel, and this runtime has none.';
  }
  return undefined;
}

/** The warning code of the refusal, for `process.on('warning')` and `--disable-warning`. */
export const UNSUPPORTED_RUNTIME_WARNING = 'HEADER_GUARD_UNSUPPORTED_RUNTIME';

/** Set on globalThis once the refusal was printed: one warning per process, however many copies load. */
const kWarned = Symbol.for('header-guard.unsupported-runtime-warned');

/**
 * Whether the guard must step aside in this runtime; the first call that finds so prints the
 * reason once, as a process warning, followed by what happens instead (internal: called by
 * `headerGuard()` and the register entry before they guard anything).
 *
 * @param facts - the runtime to judge; this process's by default.
 * @returns true when the caller must guard nothing and pass every response through untouched.
 */
export function refuseUnsupportedRuntime(facts: RuntimeFacts = currentFacts()): boolean {
  const reason = unsupportedRuntime(facts);
  if (reason === undefined) return false;
  const registry = globalThis as { [kWarned]?: boolean };
  if (registry[kWarned] !== true) {
    registry[kWarned] = true;
    process.emitWarning(`${reason} header-guard is off: every response passes through untouched and nothing is reported.`, {
      code: UNSUPPORTED_RUNTIME_WARNING,
    });
  }
  return true;
}
