/**
 * Containment (the contain option, off by default): what happens to a reported late call that
 * would otherwise throw where nothing catches it and take the process down. It only ever changes
 * what Node does for that one call:
 * - ERR_HTTP_HEADERS_SENT thrown by a reported call is caught; the call returns what the method
 *   returns (`res` for chainable methods); a response that has not finished has its connection
 *   closed, as Express's final handler does when the headers are out, so the client sees a cut
 *   response, never a hang. Any other error goes on unchanged.
 * - A write after the end runs as Node runs it (its callback gets ERR_STREAM_WRITE_AFTER_END);
 *   the 'error' event Node then emits still reaches the app's listeners, but can no longer crash
 *   the process for want of one.
 */
import { isNativeError } from 'node:util/types';
import { note, trace, writableEnded, type GuardedResponse, type ResponseState } from '../state.js';

/**
 * Whether an error is Node's "Cannot set headers after they are sent" (or "render headers").
 * isNativeError, not instanceof: under jest the guard runs in a sandbox whose Error is not Node's.
 */
export function isHeadersSent(error: unknown): boolean {
  return isNativeError(error) && (error as { code?: unknown }).code === 'ERR_HTTP_HEADERS_SENT';
}

/** Contain Node's throw from a reported late call (see the header comment): true when contained. */
export function containHeadersSent(state: ResponseState, self: GuardedResponse, error: unknown): boolean {
  if (!isHeadersSent(error)) return false;
  note(state, 'contained: ERR_HTTP_HEADERS_SENT not thrown');
  trace('contained ERR_HTTP_HEADERS_SENT on %s %s', state.req.method, typeof state.req.url === 'string' ? state.req.url.split('?')[0] : '');
  // Not ended yet: closed as Express's final handler closes it after an error once the headers
  // are out, unless the app ends it before this turn of the event loop is over (a try/catch
  // around the late call followed by res.end(), as on-headers' and Express's own tests do).
  if (!writableEnded(self)) setImmediate(closeUnended, state, self);
  return true;
}

/** Close the connection of a response a contained call left unended (see containHeadersSent). */
function closeUnended(state: ResponseState, res: GuardedResponse): void {
  if (writableEnded(res)) return;
  trace('closing the connection of an unended response after a contained call');
  const socket = state.req.socket ?? res.socket;
  socket?.destroy();
}

/**
 * Make the one 'error' event Node emits, on the next tick, for a write after the end harmless:
 * the app's own 'error' listeners still get it, but it never meets an empty listener list, which
 * throws it (so does stream.pipe's listener, which re-emits it after removing itself). Listening
 * from now until the tick after Node's (ticks run in order, and Node's is queued by the call that
 * follows) covers exactly that event.
 */
export function absorbWriteAfterEnd(res: GuardedResponse): void {
  const absorb = (error: unknown): void => {
    // Another error in that window goes on as it would without this listener: fatal only if alone.
    if ((error as { code?: unknown } | null)?.code !== 'ERR_STREAM_WRITE_AFTER_END' && res.listenerCount('error') === 1) throw error;
    trace('contained ERR_STREAM_WRITE_AFTER_END');
  };
  res.on('error', absorb);
  process.nextTick(() => process.nextTick(() => res.removeListener('error', absorb)));
}
