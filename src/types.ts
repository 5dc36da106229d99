/**
 * The public types: violations (a union to narrow on `kind`), options, stats, header origins.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ViolationKind } from './kinds.js';

export type { ViolationKind } from './kinds.js';

/**
 * One position in source code, 1-based. `file` is an absolute path (or the raw location when
 * the frame has no file, e.g. eval code; `<unknown>` with line and column 0 when no stack could
 * be captured); reports print it relative to the working directory.
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
 * What every violation has, whatever its kind.
 *
 * @public
 */
export interface ViolationBase {
  /** The whole human-readable report: the same text that is logged or thrown. */
  message: string;
  /** The call the report names as written, e.g. `res.status(500)`, `res.setHeader('x-id')`, `next()`. Never contains header values unless `includeValues`. */
  call: string;
  /** The frames the report shows for that call, innermost first: the user's own when there are any. */
  offendingStack: CallSite[];
  /** Where the response was first sent (the call that flushed the headers or claimed the body); absent when its site was not captured (capture option). */
  firstSent?: CallSite;
  /** The user's frames of the first send, innermost first (empty when not captured). */
  firstSentStack: CallSite[];
  /** Which call sent it first, e.g. `res.json()`; absent when the response was sent before the guard saw it. */
  firstSentCall?: string;
  /** Where the response was ended, when it has ended and the site was captured. */
  ended?: CallSite;
  /** The call that ended the response, e.g. `res.end()`, when it has ended. */
  endedCall?: string;
  /** The request method, e.g. `GET`. */
  method: string;
  /** The request path without its query string (with it only under `includeValues`). */
  path: string;
  /** The matched Express route (mount path included) when known, e.g. `/users/:id`. */
  route?: string;
  /** The status code the client received (or will receive), when the headers were sent. */
  statusCode?: number;
  /** Milliseconds between the first send (or, for write-after-end, the end) and this call. */
  elapsedMs?: number;
  /** How many times the same violation happened since it was last reported (dedupe window). */
  repeated?: number;
}

/**
 * A violation made by a call: where that call was made, always (`<unknown>` only when no stack
 * could be captured at all).
 *
 * @public
 */
export interface LateCallViolation extends ViolationBase {
  /** Where the offending call was made: the first frame in the user's own files when there is one. */
  offending: CallSite;
}

/** `res.status()` or `res.statusCode =` after the headers were sent. @public */
export interface LateStatusViolation extends LateCallViolation {
  kind: 'late-status';
  code: 'ERR_HEADER_GUARD_LATE_STATUS';
  /** The status code the late call asked for, which the client never sees. */
  requestedStatus: number;
}

/** A header change (or `writeHead`) after the headers were sent. @public */
export interface LateHeaderViolation extends LateCallViolation {
  kind: 'late-header';
  code: 'ERR_HTTP_HEADERS_SENT';
}

/** A second body call. Node's code when the headers were out; the guard's while the first is still sending. @public */
export interface DoubleSendViolation extends LateCallViolation {
  kind: 'double-send';
  code: 'ERR_HTTP_HEADERS_SENT' | 'ERR_HEADER_GUARD_DOUBLE_SEND';
  /** The earlier links of the same statement that were late too (`res.status(500)` of `res.status(500).json(x)`), reported here and not on their own. */
  chained?: ChainedCall[];
}

/**
 * An earlier link of a chained late call (`res.status(500)` in `res.status(500).json(x)`, Fastify's
 * `reply.code(500)` in `reply.code(500).send()`), merged into the report of the call the chain
 * ends in (one bug, one report). The client never saw it.
 *
 * @public
 */
export interface ChainedCall {
  kind: 'late-status' | 'late-header';
  /** The call as written, e.g. `res.status(500)`. */
  call: string;
  offending: CallSite;
  /** For a late status: the status it asked for, which the client never sees. */
  requestedStatus?: number;
}

/** `write()` or `end(data)` after the end. @public */
export interface WriteAfterEndViolation extends LateCallViolation {
  kind: 'write-after-end';
  code: 'ERR_HEADER_GUARD_WRITE_AFTER_END';
  /** The earlier links of the same statement that were late too (`res.status(500)` of `res.status(500).end(data)`). */
  chained?: ChainedCall[];
}

/** `next()` after the response was sent. @public */
export interface NextAfterSendViolation extends LateCallViolation {
  kind: 'next-after-send';
  code: 'ERR_HEADER_GUARD_NEXT_AFTER_SEND';
}

/** An error that reached the router after the response was sent; `offending` is where it was thrown, when its stack says. @public */
export interface ErrorAfterSendViolation extends LateCallViolation {
  kind: 'error-after-send';
  code: 'ERR_HEADER_GUARD_ERROR_AFTER_SEND';
  /** The error, as it reached the router (anything can be thrown, so it is `unknown`). */
  error: unknown;
}

/** A response that made no progress for `hangTimeoutMs`. There is no late call; `call` names its last progress. @public */
export interface HangViolation extends ViolationBase {
  kind: 'hang';
  code: 'ERR_HEADER_GUARD_HANG';
  /** Where the response last made progress (a flush or a write), when it did and the site was captured. */
  lastProgress?: CallSite;
}

/** Lint: a one-value header with several values at the flush. @public */
export interface DuplicateHeaderViolation extends ViolationBase {
  kind: 'duplicate-header';
  code: 'ERR_HEADER_GUARD_DUPLICATE_HEADER';
  /** Where the last value came from, when its site was recorded. */
  offending?: CallSite;
}

/** Lint: data written on a 204 or 304 response; `offending` is the write. @public */
export interface BodyOnNoContentViolation extends LateCallViolation {
  kind: 'body-on-no-content';
  code: 'ERR_HEADER_GUARD_BODY_ON_NO_CONTENT';
}

/** Lint: the bytes written differ from the Content-Length sent; `offending` is the end. @public */
export interface ContentLengthMismatchViolation extends LateCallViolation {
  kind: 'content-length-mismatch';
  code: 'ERR_HEADER_GUARD_CONTENT_LENGTH_MISMATCH';
}

/**
 * A violation: one late or conflicting call on a response, with where it happened and where the
 * response was sent before. Narrow on `kind`: each member has exactly the fields its kind always
 * has (`offending` wherever there is a late call, `error` on `error-after-send`, ...).
 *
 * @public
 */
export type Violation =
  | LateStatusViolation
  | LateHeaderViolation
  | DoubleSendViolation
  | WriteAfterEndViolation
  | NextAfterSendViolation
  | ErrorAfterSendViolation
  | HangViolation
  | DuplicateHeaderViolation
  | BodyOnNoContentViolation
  | ContentLengthMismatchViolation;

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
 * Options of {@link headerGuard}. `Req` and `Res` are the request and response types your
 * `onViolation` receives: Node's by default; annotate its parameters (or call
 * `headerGuard<Request, Response>()`) to get Express's.
 *
 * @public
 */
export interface HeaderGuardOptions<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse> {
  /**
   * `false`: this guard watches nothing; every response passes through untouched (the middleware
   * only calls `next()`). The other options are still checked. For the whole process, set the
   * environment variable `HEADER_GUARD=off` instead (docs/production.md, "Turning it off").
   * Default: true.
   */
  enabled?: boolean;
  /**
   * `'log'` (default): only observe. The late call runs exactly as it would without the guard
   * (Node's own throws included); the guard adds a report, written before Node's throw.
   * `'throw'`: the late call throws a {@link HeaderGuardError} instead of running (after
   * `onViolation`): for tests that want the handler stopped at the bug.
   */
  mode?: 'log' | 'throw';
  /**
   * Contain the late calls that would take the process down (docs/log-contract.md, "Containment"): Node's
   * ERR_HTTP_HEADERS_SENT from a reported call is not thrown (the call returns as the method
   * does, and an unfinished response has its connection closed), and the 'error' event of a
   * write after the end is absorbed. Nothing else changes. Default: false.
   */
  contain?: boolean;
  /**
   * Called with each report, in every mode, instead of the guard's own log line: every violation
   * that is thrown (just before the throw), and of the others the first of each violation (kind
   * and both sites) per `dedupeWindowMs` window, which is every one when the window is 0 (the
   * default outside production). An exception it throws is caught and reported once; it never
   * reaches the response.
   */
  onViolation?: (violation: Violation, req: Req, res: Res) => void;
  /** Where the default report goes: anything with `warn` (and optionally `error`, which gets a throwing `onViolation`'s failure). Default: stderr. */
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
export type HeaderGuardMiddleware<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse> = (
  req: Req,
  res: Res,
  next: (err?: unknown) => void,
) => void;
