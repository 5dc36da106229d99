/**
 * Errors and their stable codes: the code of each violation kind, HeaderGuardError (what throw
 * mode throws), and the TypeError a bad option gets.
 */
import { isNativeError } from 'node:util/types';
import type { ViolationKind } from './kinds.js';
import { kErrorBrand } from './symbols.js';
import type { Violation } from './types.js';

/**
 * The stable error codes of header-guard: the `code` of each violation, of the
 * {@link HeaderGuardError} that throw mode throws for it, and of the TypeError a bad option gets.
 * `ERR_HTTP_HEADERS_SENT` is used where Node itself would have thrown that code for the same
 * call; every other violation has its own code. Match on these, never on messages.
 *
 * ```ts
 * onViolation(v) { if (v.code === ErrorCodes.LATE_STATUS) metrics.lateStatus.add(1); }
 * ```
 *
 * @public
 */
export const ErrorCodes = {
  /** Node's code: a header change after the headers were sent. */
  HEADERS_SENT: 'ERR_HTTP_HEADERS_SENT',
  /** `res.status()` / `res.statusCode =` after the headers were sent. Node accepts it silently. */
  LATE_STATUS: 'ERR_HEADER_GUARD_LATE_STATUS',
  /** A second body call while another is still sending (headers not yet sent). */
  DOUBLE_SEND: 'ERR_HEADER_GUARD_DOUBLE_SEND',
  /** `write()` or `end(data)` after `end()`. Node emits ERR_STREAM_WRITE_AFTER_END asynchronously. */
  WRITE_AFTER_END: 'ERR_HEADER_GUARD_WRITE_AFTER_END',
  /** `next()` after the response was sent. */
  NEXT_AFTER_SEND: 'ERR_HEADER_GUARD_NEXT_AFTER_SEND',
  /** An error reached the router after the response was sent. */
  ERROR_AFTER_SEND: 'ERR_HEADER_GUARD_ERROR_AFTER_SEND',
  /** A response made no progress for `hangTimeoutMs` and has not finished. */
  HANG: 'ERR_HEADER_GUARD_HANG',
  /** Lint: a one-value header with several values at the flush. */
  DUPLICATE_HEADER: 'ERR_HEADER_GUARD_DUPLICATE_HEADER',
  /** Lint: data written on a 204 or 304 response. */
  BODY_ON_NO_CONTENT: 'ERR_HEADER_GUARD_BODY_ON_NO_CONTENT',
  /** Lint: the bytes written differ from the Content-Length sent. */
  CONTENT_LENGTH_MISMATCH: 'ERR_HEADER_GUARD_CONTENT_LENGTH_MISMATCH',
  /** An option passed to `headerGuard()` (or an environment variable of the preload) is unknown or of the wrong type. */
  INVALID_OPTION: 'ERR_HEADER_GUARD_INVALID_OPTION',
  /** A runner entry (`header-guard/mocha`, `/jest`, `/vitest`) was loaded by a version of its runner older than it can serve. */
  RUNNER_VERSION: 'ERR_HEADER_GUARD_RUNNER_VERSION',
} as const;

/**
 * Any of the codes in {@link ErrorCodes}.
 *
 * @public
 */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The code of a violation of this kind; `nodeWouldThrow` says whether Node throws ERR_HTTP_HEADERS_SENT for it (internal). */
export function codeFor(kind: ViolationKind, nodeWouldThrow: boolean): Violation['code'] {
  if (nodeWouldThrow) return ErrorCodes.HEADERS_SENT;
  switch (kind) {
    case 'late-status': return ErrorCodes.LATE_STATUS;
    case 'late-header': return ErrorCodes.HEADERS_SENT;
    case 'double-send': return ErrorCodes.DOUBLE_SEND;
    case 'write-after-end': return ErrorCodes.WRITE_AFTER_END;
    case 'next-after-send': return ErrorCodes.NEXT_AFTER_SEND;
    case 'error-after-send': return ErrorCodes.ERROR_AFTER_SEND;
    case 'hang': return ErrorCodes.HANG;
    case 'duplicate-header': return ErrorCodes.DUPLICATE_HEADER;
    case 'body-on-no-content': return ErrorCodes.BODY_ON_NO_CONTENT;
    case 'content-length-mismatch': return ErrorCodes.CONTENT_LENGTH_MISMATCH;
  }
}

/**
 * Thrown by the offending call in `throw` mode. `message` is the whole report; `violation`
 * holds the same facts as data. `instanceof HeaderGuardError` holds for the errors of every copy
 * of header-guard in the process.
 *
 * @public
 */
export class HeaderGuardError extends Error {
  /** Always `'HeaderGuardError'`. */
  override readonly name = 'HeaderGuardError';
  /** See {@link ErrorCodes}. */
  readonly code: Violation['code'];
  /** The violation this error reports. */
  readonly violation: Violation;

  constructor(violation: Violation) {
    super(violation.message, violation.kind === 'error-after-send' ? { cause: violation.error } : undefined);
    this.code = violation.code;
    this.violation = violation;
    Object.defineProperty(this, kErrorBrand, { value: true });
  }

  /** Whether a value is a HeaderGuardError of any copy of header-guard (a brand, not the prototype chain). */
  static isError(value: unknown): value is HeaderGuardError {
    return typeof value === 'object' && value !== null && (value as { [kErrorBrand]?: unknown })[kErrorBrand] === true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return HeaderGuardError.isError(value);
  }
}

/**
 * A bad option given to `headerGuard()`: a TypeError with code ERR_HEADER_GUARD_INVALID_OPTION
 * whose message names the option (internal constructor; the class is not exported).
 */
export function invalidOption(message: string): TypeError {
  const error = new TypeError(`header-guard: ${message}`) as TypeError & { code: string };
  error.code = ErrorCodes.INVALID_OPTION;
  return error;
}

/**
 * A runner entry loaded by a runner older than it can serve: an Error with code
 * ERR_HEADER_GUARD_RUNNER_VERSION, thrown at start-up (internal constructor).
 */
export function runnerTooOld(message: string): Error {
  const error = new Error(`header-guard: ${message}`) as Error & { code: string };
  error.code = ErrorCodes.RUNNER_VERSION;
  return error;
}

/**
 * Whether a value is an Error: one of this realm, or a native error of another (jest's per-file
 * sandbox, a vm context), whose `instanceof Error` is false. Internal.
 */
export function isError(value: unknown): value is Error {
  return isNativeError(value) || value instanceof Error;
}

/** An error's stack; undefined for a value that is not an Error, or whose `stack` getter throws. Internal. */
export function stackOf(value: unknown): unknown {
  try {
    return isError(value) ? value.stack : undefined;
  } catch {
    return undefined;
  }
}
