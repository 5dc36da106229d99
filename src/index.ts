/**
 * header-guard: names both call sites of "Cannot set headers after they are sent to the client"
 * and of the silent late calls around it.
 *
 * The data path: a request enters through `headerGuard()` (middleware.ts) or the preload
 * (preload.ts); its response gets a state (attach.ts, state.ts); the wrapped response methods
 * (patch/) check each call against that state; a late call is reported (report/) and, in log
 * mode, runs on as it would without the guard.
 *
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { engine } from './engine.js';
import type { HeaderGuardMiddleware, HeaderGuardOptions, HeaderGuardStats, HeaderOrigin } from './types.js';

/**
 * Create the guard middleware.
 *
 * ```ts
 * app.use(headerGuard());                              // Express: mount it first
 * http.createServer((req, res) => guard(req, res, () => handler(req, res)));  // node:http
 * ```
 *
 * It watches every response that passes through it and reports any call made after the
 * response was sent (late status or header, second body, write after end, next() or an error
 * after the response), naming both the offending call and the earlier one. In log mode (the
 * default) it only observes: the app, its libraries and the client see what they see without it.
 *
 * @param options - see {@link HeaderGuardOptions}; checked now, a bad one throws a TypeError
 *   with code `ERR_HEADER_GUARD_INVALID_OPTION`.
 * @returns Connect/Express middleware.
 * @public
 */
export function headerGuard<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(
  options?: HeaderGuardOptions<Req, Res>,
): HeaderGuardMiddleware<Req, Res> {
  return engine.headerGuard(options);
}

/**
 * Who set, appended or removed each header of a response, in order: a `Map` from the lowercased
 * header name to its changes (a middleware like helmet first, the app's override last). Needs
 * `trackHeaders: true` (or `lint: true`) on the guard; otherwise, or for a response the guard
 * did not see, the map is empty.
 *
 * @param res - the response.
 * @public
 */
export function headerOrigins(res: ServerResponse): Map<string, HeaderOrigin[]> {
  return engine.headerOrigins(res);
}

/**
 * Violation counts of every guard in this process, per kind and per route: a snapshot, safe to
 * serialise (e.g. on a health or metrics endpoint).
 *
 * @public
 */
export function stats(): HeaderGuardStats {
  return engine.stats();
}

/**
 * Set every count of {@link stats} back to zero, for every guard in this process: between test
 * cases, or after an exporter has read the counts. Nothing else is reset: the dedupe windows of
 * the guards and the violations collected by `header-guard/testing` stay as they are.
 *
 * ```ts
 * const { total } = stats();
 * resetStats();   // stats().total is now 0
 * ```
 *
 * @public
 */
export function resetStats(): void {
  engine.resetStats();
}

export { HeaderGuardError, ErrorCodes, type ErrorCode } from './errors.js';
export { VIOLATION_KINDS } from './kinds.js';
export { formatSite as formatCallSite } from './report/callsite.js';
export type {
  BodyOnNoContentViolation,
  CallSite,
  ChainedCall,
  ContentLengthMismatchViolation,
  DoubleSendViolation,
  DuplicateHeaderViolation,
  ErrorAfterSendViolation,
  HangViolation,
  HeaderGuardLogger,
  HeaderGuardMiddleware,
  HeaderGuardOptions,
  HeaderGuardStats,
  HeaderOrigin,
  LateCallViolation,
  LateHeaderViolation,
  LateStatusViolation,
  NextAfterSendViolation,
  Violation,
  ViolationBase,
  ViolationKind,
  WriteAfterEndViolation,
} from './types.js';
export default headerGuard;
