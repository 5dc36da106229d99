import { invalidOption } from './errors.js';
import type { HeaderGuardLogger, HeaderGuardOptions, ViolationKind } from './types.js';

/** Every violation kind, for validating `logOnly` (internal). */
export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'late-status', 'late-header', 'double-send', 'write-after-end', 'next-after-send', 'error-after-send',
  'hang', 'duplicate-header', 'body-on-no-content', 'content-length-mismatch',
];

/** Kinds that are reported but never thrown: no late call to throw from, nothing the client lacks. */
export const REPORT_ONLY_KINDS: readonly ViolationKind[] = ['hang', 'duplicate-header', 'body-on-no-content', 'content-length-mismatch'];

/** Options after validation, with defaults filled in (internal). */
export interface ResolvedOptions {
  mode: 'log' | 'throw';
  onViolation: HeaderGuardOptions['onViolation'];
  logger: HeaderGuardLogger | undefined;
  logOnly: readonly ViolationKind[];
  capture: 'always' | 'adaptive' | 'off';
  dedupeWindowMs: number;
  includeValues: boolean;
  frames: number;
  ignore: readonly (string | RegExp)[];
  codeFrame: boolean;
  hangTimeoutMs: number;
  trackHeaders: boolean;
  lint: boolean;
}

const KNOWN = ['mode', 'onViolation', 'logger', 'logOnly', 'capture', 'dedupeWindowMs', 'includeValues', 'frames', 'ignore', 'codeFrame', 'hangTimeoutMs', 'trackHeaders', 'lint'] as const;

/** Describe a value for an error message without dumping it. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value) ?? String(value)}`;
}

/**
 * Check the options given to `headerGuard()` and fill in defaults. Throws a TypeError with code
 * ERR_HEADER_GUARD_INVALID_OPTION naming the first bad option. Internal.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  const production = process.env.NODE_ENV === 'production';
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidOption(`headerGuard(options) takes an options object, got ${kindOf(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw invalidOption(`unknown option "${key}". Known options: ${KNOWN.join(', ')}.`);
    }
  }
  const {
    mode = 'log',
    onViolation,
    logger,
    logOnly = [],
    capture = production ? 'adaptive' : 'always',
    dedupeWindowMs = production ? 60_000 : 0,
    includeValues = false,
    frames = 3,
    ignore = [],
    codeFrame = !production && process.stderr.isTTY === true,
    hangTimeoutMs = production ? 0 : 30_000,
    trackHeaders = false,
    lint = false,
  } = options as HeaderGuardOptions;
  if (mode !== 'log' && mode !== 'throw') {
    throw invalidOption(`option "mode" must be 'log' or 'throw', got ${kindOf(mode)}.`);
  }
  if (onViolation !== undefined && typeof onViolation !== 'function') {
    throw invalidOption(`option "onViolation" must be a function (violation, req, res) => void, got ${kindOf(onViolation)}.`);
  }
  if (logger !== undefined) {
    if (logger === null || typeof logger !== 'object' && typeof logger !== 'function' || typeof logger.warn !== 'function') {
      throw invalidOption(`option "logger" must have a warn(message) method (console, pino and winston do), got ${kindOf(logger)}.`);
    }
    if (logger.error !== undefined && typeof logger.error !== 'function') {
      throw invalidOption(`option "logger" has an "error" that is not a function.`);
    }
  }
  if (!Array.isArray(logOnly) || logOnly.some((kind) => !VIOLATION_KINDS.includes(kind))) {
    throw invalidOption(`option "logOnly" must be an array of violation kinds (${VIOLATION_KINDS.join(', ')}), got ${JSON.stringify(logOnly)}.`);
  }
  if (capture !== 'always' && capture !== 'adaptive' && capture !== 'off') {
    throw invalidOption(`option "capture" must be 'always', 'adaptive' or 'off', got ${kindOf(capture)}.`);
  }
  if (typeof dedupeWindowMs !== 'number' || !Number.isFinite(dedupeWindowMs) || dedupeWindowMs < 0) {
    throw invalidOption(`option "dedupeWindowMs" must be a finite number of milliseconds >= 0, got ${kindOf(dedupeWindowMs)}.`);
  }
  if (typeof includeValues !== 'boolean') {
    throw invalidOption(`option "includeValues" must be true or false, got ${kindOf(includeValues)}.`);
  }
  if (typeof frames !== 'number' || !Number.isInteger(frames) || frames < 1 || frames > 50) {
    throw invalidOption(`option "frames" must be a whole number from 1 to 50, got ${kindOf(frames)}.`);
  }
  if (!Array.isArray(ignore) || ignore.some((pattern) => typeof pattern !== 'string' && !(pattern instanceof RegExp))) {
    throw invalidOption(`option "ignore" must be an array of strings (matched anywhere in a path) or RegExps.`);
  }
  if (typeof codeFrame !== 'boolean') {
    throw invalidOption(`option "codeFrame" must be true or false, got ${kindOf(codeFrame)}.`);
  }
  if (typeof hangTimeoutMs !== 'number' || !Number.isFinite(hangTimeoutMs) || hangTimeoutMs < 0 || hangTimeoutMs > 2 ** 31 - 1) {
    throw invalidOption(`option "hangTimeoutMs" must be a number of milliseconds from 0 (off) to 2147483647, got ${kindOf(hangTimeoutMs)}.`);
  }
  for (const [name, value] of [['trackHeaders', trackHeaders], ['lint', lint]] as const) {
    if (typeof value !== 'boolean') throw invalidOption(`option "${name}" must be true or false, got ${kindOf(value)}.`);
  }
  return {
    mode,
    onViolation,
    logger,
    logOnly: [...logOnly],
    capture,
    dedupeWindowMs,
    includeValues,
    frames,
    ignore: [...ignore],
    codeFrame,
    hangTimeoutMs,
    trackHeaders: trackHeaders || lint,
    lint,
  };
}
