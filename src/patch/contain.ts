/**
 * Containment (the contain option, off by default): what happens to a reported late call that
 * would otherwise throw where nothing catches it and take the process down. It only ever changes
 * what Node does for that one call:
 * - ERR_HTTP_HEADERS_SENT thrown by a reported call is caught; the call returns what the method
 *   returns (`res` for chainable methods); a response that has not finished has its connection
 *   closed, as Express's final handler does when the headers are out, so the client sees a cut
 *   response, never a hang. Any other error goes on unchanged.
 * - A write after the end still calls its callback with Node's ERR_STREAM_WRITE_AFTER_END; the
 *   'error' event Node then emits on a response with no 'error' listener (which would crash the
 *   process) is absorbed.
 */
import { isNativeError } from 'node:util/types';
import { note, trace, writableEnded, type GuardedResponse, type ResponseState } from '../state.js';
import { CONTAIN } from './wrapper.js';

/**
 * Whether an error is Node's "Cannot set headers after they are sent" (or "render headers").
 * isNativeError, not instanceof: under jest the guard runs in a sandbox whose Error is not Node's.
 */
function isHeadersSent(error: unknown): boolean {
  return isNativeError(error) && (error as { code?: unknown }).code === 'ERR_HTTP_HEADERS_SENT';
}

/**
 * A reported late call threw: the error is Node's answer to a call already reported, so it is
 * not reported again as an error after the send when it reaches the router. Under contain,
 * Node's ERR_HTTP_HEADERS_SENT is contained (see the header comment): true when it is.
 */
export function lateThrew(state: ResponseState, self: GuardedResponse, error: unknown, step: number): boolean {
  (state.reportedErrors ??= []).push(error);
  if ((step & CONTAIN) === 0 || !isHeadersSent(error)) return false;
  note(state, 'contained: ERR_HTTP_HEADERS_SENT not thrown');
  trace('contained ERR_HTTP_HEADERS_SENT on %s %s', state.req.method, typeof state.req.url === 'string' ? state.req.url.split('?')[0] : '');
  if (!writableEnded(self)) {
    // As Express's final handler does for an error once the headers are out.
    const socket = state.req.socket ?? self.socket;
    socket?.destroy();
  }
  return true;
}

/**
 * Absorb the one 'error' event Node emits, on the next tick, for a write after the end, when
 * nothing listens for 'error' on the response. Listening from now until the tick after Node's
 * (ticks run in order, and Node's is queued by the call that follows) covers exactly that event.
 */
export function absorbWriteAfterEnd(res: GuardedResponse): void {
  if (res.listenerCount('error') > 0) return;
  const absorb = (error: unknown): void => {
    if ((error as { code?: unknown } | null)?.code !== 'ERR_STREAM_WRITE_AFTER_END') throw error;
    trace('contained ERR_STREAM_WRITE_AFTER_END');
  };
  res.on('error', absorb);
  process.nextTick(() => process.nextTick(() => res.removeListener('error', absorb)));
}
