/**
 * The process-wide off switch: `HEADER_GUARD=off` (or `0`, `false`) in the environment makes
 * every entry point (headerGuard(), the preload, the runner entries, the Koa, Fastify and
 * outgoing-request adapters) pass responses through untouched, without a code change. Read once,
 * when the first entry point loads; said once on stderr, when the first entry point is used.
 */
import { invalidOption } from './errors.js';

/** The values of `HEADER_GUARD` that turn the guard off, and those that leave it on. */
const OFF = ['off', '0', 'false'];
const ON = ['', 'on', '1', 'true'];

/**
 * Whether `HEADER_GUARD` turns the guard off (case and spaces aside). Any other value is a
 * TypeError with code ERR_HEADER_GUARD_INVALID_OPTION naming it (internal).
 */
export function offByEnvironment(env: { HEADER_GUARD?: string | undefined }): boolean {
  const text = (env.HEADER_GUARD ?? '').trim().toLowerCase();
  if (OFF.includes(text)) return true;
  if (ON.includes(text)) return false;
  throw invalidOption(`HEADER_GUARD must be off, 0 or false (guard nothing) or on, 1 or true, got ${JSON.stringify(env.HEADER_GUARD)}.`);
}

let told = false;

/** Say once per process that the guard is off, and why. */
export function tellOff(): void {
  if (told) return;
  told = true;
  try {
    process.stderr.write(`header-guard: off (HEADER_GUARD=${String(process.env.HEADER_GUARD)}): every response passes through untouched.\n`);
  } catch {
    // No stderr: nothing to say it on.
  }
}
