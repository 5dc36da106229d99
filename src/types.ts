import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What went wrong with a response. Stable strings: match on these, not on messages.
 *
 * - `late-status`: the status code changed after the headers were sent (Node accepts it silently).
 * - `late-header`: a header was set, appended or removed (or `writeHead` called) after the headers were sent.
 * - `double-send`: a body method (`send`, `json`, `sendFile`, ...) was called after another one
 *   had answered, or while one is still sending.
 * - `write-after-end`: `write()`, or `end()` with data, after the response ended.
 * - `next-after-send`: `next()` was called after the response was sent.
 * - `error-after-send`: an error reached the router after the response was sent.
 * - `hang`: the response made no progress for `hangTimeoutMs` and has not finished.
 * - `duplicate-header` (lint): a header that takes one value (Content-Type, Location, ...) had several at the flush.
 * - `body-on-no-content` (lint): data written on a 204 or 304 response, which Node drops.
 * - `content-length-mismatch` (lint): the bytes written differ from the Content-Length sent.
 *
 * The last four are reported, never thrown: there is no late call to throw from, and the
 * response went out as the app made it.
 *
 * @public
 */
export type ViolationKind =
  | 'late-status'
  | 'late-header'
  | 'double-send'
  | 'write-after-end'
  | 'next-after-send'
  | 'error-after-send'
  | 'hang'
  | 'duplicate-header'
  | 'body-on-no-content'
  | 'content-length-mismatch';

/**
 * One position in source code, 1-based. `file` is an absolute path (or the raw location when
 * the frame has no file, e.g. eval code); reports print it relative to the working directory.
 *
 * @public
 */
export interface CallSite {
  file: string;
  line: number;
  column: number;
  /** The function name as V8 reports it, when it has one. */
  function?: string;
}

/**
 * A violation: one late or conflicting call on a response, with where it happened and where the
 * response was sent before.
 *
 * @public
 */
export interface Violation {
  /** What went wrong. */
  kind: ViolationKind;
  /** `ERR_HTTP_HEADERS_SENT` where Node would have thrown that code, otherwise an `ERR_HEADER_GUARD_*` code. */
  code: string;
  /** The whole human-readable report: the same text that is logged or thrown. */
  message: string;
  /** The offending call as written, e.g. `res.status(500)`, `res.setHeader('x-id')`, `next()`. Never contains header values. */
  call: string;
  /** Where the offending call was made (the first frame in the user's own files when there is one). */
  offending?: CallSite;
  /** The user's frames of the offending call, innermost first (`offending` is the first). */
  offendingStack: CallSite[];
  /** Where the response was first sent: the call that flushed the headers or claimed the body. */
  firstSent?: CallSite;
  /** The user's frames of the first send, innermost first. */
  firstSentStack: CallSite[];
  /** Which call sent it first, e.g. `res.json()`. */
  firstSentCall?: string;
  /** Where the response was ended, when that matters to this violation. */
  ended?: CallSite;
  /** The call that ended the response, e.g. `res.end()`. */
  endedCall?: string;
  /** The request method, e.g. `GET`. */
  method: string;
  /** The request path without its query string. */
  path: string;
  /** The matched Express route (mount path included) when known, e.g. `/users/:id`. */
  route?: string;
  /** The status code the client received (or will receive), when the headers were sent. */
  statusCode?: number;
  /** Milliseconds between the first send (or the end) and the offending call. */
  elapsedMs?: number;
  /** The error that reached the router, for `error-after-send`. */
  error?: unknown;
  /** How many times the same violation happened since it was last reported (dedupe window). */
  repeated?: number;
}

/**
 * Violation counts since the process started (or since `resetStats()`), from `stats()`.
 *
 * @public
 */
export interface HeaderGuardStats {
  /** All violations. */
  total: number;
  /** Per kind. */
  byKind: Record<ViolationKind, number>;
  /**
   * Per route (`GET /users/:id`, or the path when no route matched), then per kind. At most 1000
   * routes are kept; later ones are counted under `'(other routes)'`.
   */
  byRoute: Record<string, Partial<Record<ViolationKind, number>>>;
}

/**
 * Where reports go when no `onViolation` is given. `console`, pino and winston fit.
 *
 * @public
 */
export interface HeaderGuardLogger {
  warn(message: string): unknown;
  error?(message: string): unknown;
}

/**
 * Options of {@link headerGuard}.
 *
 * @public
 */
export interface HeaderGuardOptions {
  /**
   * `'log'` (default): report, drop the late header/status/body/write call, keep the server alive.
   * `'throw'`: the offending call throws a {@link HeaderGuardError} (after `onViolation`).
   */
  mode?: 'log' | 'throw';
  /**
   * Called for every violation, in every mode. When given, the guard writes no log line of its own.
   * An exception it throws is caught and logged; it never reaches the response.
   */
  onViolation?: (violation: Violation, req: IncomingMessage, res: ServerResponse) => void;
  /** Where the default report goes: anything with `warn` (and optionally `error`). Default: stderr. */
  logger?: HeaderGuardLogger;
  /**
   * Kinds that are only reported, never thrown, even in throw mode: e.g. a test suite that calls
   * `next()` after answering on purpose. Default: none.
   */
  logOnly?: ViolationKind[];
  /**
   * When to capture the call sites of the earlier events (first send, end), which reports need to
   * name both places. The offending call is always captured, when it happens.
   * - `'always'`: at every response (about 2–7 µs per response).
   * - `'adaptive'`: not until a route has a violation; from then on, always on that route. The
   *   first report names the offending call; the next one on that route names both sites.
   * - `'off'`: never.
   *
   * Default: `'adaptive'` when `NODE_ENV` is `production`, otherwise `'always'` (and always
   * `'always'` under `DEBUG=header-guard`).
   */
  capture?: 'always' | 'adaptive' | 'off';
  /**
   * Report the same violation (kind and both sites) at most once per this many milliseconds,
   * with a count of the repeats; `0` reports every one. Applies to logged reports and
   * `onViolation`, not to thrown errors, the diagnostics channel or `stats()`.
   * Default: 60000 when `NODE_ENV` is `production`, otherwise 0.
   */
  dedupeWindowMs?: number;
  /**
   * Print header values, cookie values, redirect targets and query strings in reports.
   * Default: false: reports name headers and cookies, never their values.
   */
  includeValues?: boolean;
  /** How many of the user's frames a report shows per site: the call and its callers. Default 3. */
  frames?: number;
  /**
   * More paths to treat as library code, never shown as the user's frames: strings matched
   * anywhere in the path (e.g. `'/node_modules/'` is built in; add `'packages/internal-http/'`)
   * or RegExps. Node's internals, `node_modules` and the guard itself are always skipped.
   */
  ignore?: (string | RegExp)[];
  /**
   * Show the source line of the late call and of the first send, with a caret under the column.
   * Default: on when `NODE_ENV` is not `production` and stderr is a TTY. Files are read only
   * when a report is written. Colour is used only on a TTY, never with `NO_COLOR`, always with
   * `FORCE_COLOR`.
   */
  codeFrame?: boolean;
  /**
   * Report a response that made no progress (no flush, no write) for this many milliseconds and
   * has not finished, once, naming where it last wrote. A response that finishes, or whose client
   * goes away, is never reported; an event stream that keeps writing is making progress.
   * `0` turns it off. Default: off when `NODE_ENV` is `production`, otherwise 30000.
   */
  hangTimeoutMs?: number;
  /**
   * Record who set, appended or removed each header (a stack capture per change), for
   * {@link headerOrigins} and for reports of late header changes. Default: false.
   */
  trackHeaders?: boolean;
  /**
   * Check each response at its flush and end: a one-value header with several values, a body on
   * a 204 or 304, a Content-Length that differs from the bytes written. Implies `trackHeaders`.
   * Default: false.
   */
  lint?: boolean;
}

/**
 * One change to a header, from {@link headerOrigins}.
 *
 * @public
 */
export interface HeaderOrigin {
  action: 'set' | 'append' | 'remove';
  /** The call that made it as written, e.g. `res.set('x-powered-by')` or `res.setHeader('content-type')`. */
  call: string;
  /** Where: the caller of the response method (which may be a middleware in node_modules, like helmet). */
  site?: CallSite;
}

/**
 * The middleware returned by {@link headerGuard}: Connect/Express shaped, and usable around a
 * plain node:http handler as `guard(req, res, () => handler(req, res))`.
 *
 * @public
 */
export type HeaderGuardMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;
