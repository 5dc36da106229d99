/**
 * header-guard/register: guard every HTTP response in this process, with no change to app code.
 *
 * ```sh
 * node --require header-guard/register app.js
 * node --import header-guard/register app.mjs
 * mocha --require header-guard/register
 * ```
 *
 * Environment:
 * - `HEADER_GUARD_MODE`: `throw` (default) or `log`.
 * - `HEADER_GUARD_LOG_ONLY`: comma-separated violation kinds that are only logged, never thrown
 *   (for suites that call `next()` or throw after answering on purpose).
 *
 * It subscribes to Node's `http.server.request.start` diagnostics channel, which fires before a
 * server's request listener runs, guards the response, and guards the router of each Express app
 * that listens on the server. Loading it twice does nothing more.
 *
 * @packageDocumentation
 */
import { invalidOption } from './errors.js';
import { installPreload } from './preload.js';
import type { ViolationKind } from './types.js';
import { VIOLATION_KINDS } from './validations.js';

/** Read the environment and install the process-wide guard (once: installPreload is idempotent). */
function register(): void {
  const mode = process.env.HEADER_GUARD_MODE ?? 'throw';
  if (mode !== 'throw' && mode !== 'log') {
    throw invalidOption(`HEADER_GUARD_MODE must be 'throw' or 'log', got ${JSON.stringify(mode)}.`);
  }
  const logOnly = (process.env.HEADER_GUARD_LOG_ONLY ?? '').split(',').map((kind) => kind.trim()).filter((kind) => kind !== '');
  const invalid = logOnly.find((kind) => !(VIOLATION_KINDS as readonly string[]).includes(kind));
  if (invalid !== undefined) {
    throw invalidOption(`HEADER_GUARD_LOG_ONLY lists an unknown kind ${JSON.stringify(invalid)}; kinds: ${VIOLATION_KINDS.join(', ')}.`);
  }
  installPreload({ mode, logOnly: logOnly as ViolationKind[] });
}

register();
