/**
 * The options of `headerGuard()` and of the preload: checked once, with a clear TypeError naming
 * the first bad one, and filled in with their defaults (which depend on NODE_ENV).
 */
import { isRegExp } from 'node:util/types';
import { invalidOption } from './errors.js';
import { VIOLATION_KINDS, type ViolationKind } from './kinds.js';
import type { HeaderGuardLogger, HeaderGuardOptions } from './types.js';

/** Options after validation, with defaults filled in (internal). */
export interface ResolvedOptions {
  enabled: boolean;
  mode: 'log' | 'throw';
  contain: boolean;
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

/** Every option `headerGuard()` takes (internal; the README's table is tested against it). */
export const KNOWN_OPTIONS = ['enabled', 'mode', 'contain', 'onViolation', 'logger', 'logOnly', 'capture', 'dedupeWindowMs', 'includeValues', 'frames', 'ignore', 'codeFrame', 'hangTimeoutMs', 'trackHeaders', 'lint'] as const;

/** Describe a value for an error message without dumping it. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value) ?? String(value)}`;
}

/** The edit distance of two short strings (insertions, deletions, substitutions, transpositions). */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]!.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]!.push(best);
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known option an unknown name was most likely meant to be (case aside, at most two edits away), if any. */
export function suggestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of KNOWN_OPTIONS) {
    const d = distance(name.toLowerCase(), known.toLowerCase());
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
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
    if (!(KNOWN_OPTIONS as readonly string[]).includes(key)) {
      const suggestion = suggestOption(key);
      throw invalidOption(suggestion === undefined
        ? `unknown option "${key}". Known options: ${KNOWN_OPTIONS.join(', ')}.`
        : `unknown option "${key}". Did you mean "${suggestion}"?`);
    }
  }
  const {
    enabled = true,
    mode = 'log',
    contain = false,
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
  if (typeof enabled !== 'boolean') {
    throw invalidOption(`option "enabled" must be true or false, got ${kindOf(enabled)}.`);
  }
  if (mode !== 'log' && mode !== 'throw') {
    throw invalidOption(`option "mode" must be 'log' or 'throw', got ${kindOf(mode)}.`);
  }
  if (typeof contain !== 'boolean') {
    throw invalidOption(`option "contain" must be true or false, got ${kindOf(contain)}.`);
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
  if (!Array.isArray(logOnly) || logOnly.some((kind) => !(VIOLATION_KINDS as readonly unknown[]).includes(kind))) {
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
  if (!Array.isArray(ignore) || ignore.some((pattern) => typeof pattern !== 'string' && !isRegExp(pattern))) {
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
    enabled,
    mode,
    contain,
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

/** The environment variables the preload reads (register.ts). */
export interface PreloadEnvironment {
  NODE_ENV?: string | undefined;
  HEADER_GUARD_MODE?: string | undefined;
  HEADER_GUARD_LOG_ONLY?: string | undefined;
  HEADER_GUARD_CONTAIN?: string | undefined;
}

/**
 * The preload's options from its environment: `HEADER_GUARD_MODE` (`log` or `throw`; case and
 * surrounding spaces do not matter; unset or empty means `throw` when `NODE_ENV` is `test` and
 * `log` otherwise, so that loading the preload into an app never crashes it unless asked),
 * `HEADER_GUARD_LOG_ONLY` (comma-separated kinds) and `HEADER_GUARD_CONTAIN` (`1`/`true` or
 * `0`/`false`). A bad value throws the same TypeError a bad option does (internal).
 */
export function optionsFromEnvironment(env: PreloadEnvironment): HeaderGuardOptions {
  const mode = (env.HEADER_GUARD_MODE ?? '').trim().toLowerCase() || (env.NODE_ENV === 'test' ? 'throw' : 'log');
  if (mode !== 'throw' && mode !== 'log') {
    throw invalidOption(`HEADER_GUARD_MODE must be 'throw' or 'log', got ${JSON.stringify(env.HEADER_GUARD_MODE)}.`);
  }
  const logOnly = (env.HEADER_GUARD_LOG_ONLY ?? '').split(',').map((kind) => kind.trim().toLowerCase()).filter((kind) => kind !== '');
  const invalid = logOnly.find((kind) => !(VIOLATION_KINDS as readonly string[]).includes(kind));
  if (invalid !== undefined) {
    throw invalidOption(`HEADER_GUARD_LOG_ONLY lists an unknown kind ${JSON.stringify(invalid)}; kinds: ${VIOLATION_KINDS.join(', ')}.`);
  }
  const containText = (env.HEADER_GUARD_CONTAIN ?? '').trim().toLowerCase();
  if (!['', '0', '1', 'true', 'false'].includes(containText)) {
    throw invalidOption(`HEADER_GUARD_CONTAIN must be 1, true, 0 or false, got ${JSON.stringify(env.HEADER_GUARD_CONTAIN)}.`);
  }
  return { mode, logOnly: logOnly as ViolationKind[], contain: containText === '1' || containText === 'true' };
}

/** Options Fastify's `register()` itself reads; they are not the guard's. */
const REGISTER_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers']);

/** The guard's own options out of what Fastify's `register()` passed a plugin (internal). */
export function withoutRegisterOptions(options: unknown): unknown {
  if (options === undefined || options === null || typeof options !== 'object' || Array.isArray(options)) return options;
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (!REGISTER_OPTIONS.has(key)) own[key] = value;
  return own;
}
