/**
 * The `statusCode` accessor: catches `res.statusCode = 500` after the headers were sent, which
 * Node accepts silently. It replaces the plain data property where Node keeps the default (on
 * ServerResponse.prototype), once, so guarded responses need nothing per request: their status
 * lives in the guard's state. A response the guard does not watch behaves as before: its first
 * assignment creates its own data property, exactly as assigning to Node's default does.
 *
 * One exception to that: a response whose state slot is reserved (slot.ts: a guard serves its
 * server and will come) keeps a status assigned before the guard comes under `kEarlyStatus`,
 * where the accessor reads it, not in an own `statusCode`. Koa assigns `res.statusCode = 404`
 * before any middleware runs; an own `statusCode` there would have to become an accessor, or be
 * deleted, once the guard comes, and either sends the response's object into V8's slow
 * dictionary mode (it is not the last property added: on-finished adds one after it), which cost
 * Koa apps about 15 µs per request. When the guard comes, the state reads the early status
 * through the accessor and holds it from then on.
 */
import { flag } from '../report/flag.js';
import { headersSent, statusSent, type AnyFunction, type GuardedResponse, type ResponseState, hasOwn } from '../state.js';
import { kEarlyStatus, kState } from '../symbols.js';
import { isStatusCode } from './response.js';

/** A response with a status assigned before its guard came (header comment). */
type EarlyStatus = GuardedResponse & { [kEarlyStatus]?: unknown };

/** The accessor, reading the guard's state or, for a response it does not watch (yet), the default. */
function statusCodeAccessor(defaultValue: unknown): PropertyDescriptor {
  return {
    get(this: GuardedResponse): unknown {
      const state = this[kState];
      if (state !== undefined) return state.statusCode;
      return hasOwn(this, kEarlyStatus) ? (this as EarlyStatus)[kEarlyStatus] : defaultValue;
    },
    set: setStatusCode,
    enumerable: true,
    configurable: true,
  };
}

/**
 * The setter of both accessors (prototype and, where an own value existed, per response). A late
 * assignment made by the app (not inside a body call or a late call already reported, which set
 * the status as their own work) is reported, then made, as Node makes it.
 */
function setStatusCode(this: GuardedResponse, value: unknown): void {
  const state = this[kState];
  if (state === undefined) {
    if (hasOwn(this, kState)) (this as EarlyStatus)[kEarlyStatus] = value;
    else Object.defineProperty(this, 'statusCode', { value, writable: true, enumerable: true, configurable: true });
    return;
  }
  if (state.quiet === 0 && state.bodyDepth === 0 && value !== statusSent(state) && isStatusCode(value) && headersSent(this)) {
    flag(state, 'late-status', `res.statusCode = ${value}`, setStatusCode as AnyFunction, { requestedStatus: value });
  }
  state.statusCode = value;
}

/** Replace a prototype's own plain `statusCode` data property by the accessor (from patchChain). */
export function patchStatusCode(proto: object): void {
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'statusCode');
  if (descriptor === undefined || !('value' in descriptor) || descriptor.writable !== true || descriptor.configurable !== true) return;
  Object.defineProperty(proto, 'statusCode', statusCodeAccessor(descriptor.value));
}

/** Per response that already had its own `statusCode` when the guard came: the same accessor on the instance. */
const OWN_STATUS_CODE_ACCESSOR: PropertyDescriptor = statusCodeAccessor(undefined);

/**
 * Make sure `res.statusCode` goes through the accessor. Nearly always it already does, through
 * the prototype. A response given its own value before the guard saw it (a middleware mounted
 * earlier assigned it) gets the accessor on the instance. Where `statusCode` is an accessor of
 * its own (HTTP/2's compatibility response) it is left alone; `res.status()` is still guarded.
 */
export function guardStatusCode(res: GuardedResponse, state: ResponseState): void {
  if (!hasOwn(res, 'statusCode')) return;
  const own = Object.getOwnPropertyDescriptor(res, 'statusCode');
  if (own === undefined || !('value' in own) || own.writable !== true || own.configurable !== true) return;
  state.statusCode = own.value;
  Object.defineProperty(res, 'statusCode', OWN_STATUS_CODE_ACCESSOR);
}
