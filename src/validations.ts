import { invalidOption } from './errors.js';
import type { HeaderGuardLogger, HeaderGuardOptions } from './types.js';

/** Options after validation, with defaults filled in (internal). */
export interface ResolvedOptions {
  mode: 'log' | 'throw';
  onViolation: HeaderGuardOptions['onViolation'];
  logger: HeaderGuardLogger | undefined;
}

const KNOWN = ['mode', 'onViolation', 'logger'] as const;

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
  if (options === undefined) return { mode: 'log', onViolation: undefined, logger: undefined };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidOption(`headerGuard(options) takes an options object, got ${kindOf(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw invalidOption(`unknown option "${key}". Known options: ${KNOWN.join(', ')}.`);
    }
  }
  const { mode = 'log', onViolation, logger } = options as HeaderGuardOptions;
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
  return { mode, onViolation, logger };
}
