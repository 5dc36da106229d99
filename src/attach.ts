/**
 * Attaching guards to a response: the first guard that sees it gives it its state (and wraps
 * the methods of its prototypes, once per prototype); a guard that comes later joins that state.
 *
 * Several guards on one response (the preload and the app's own guard, a sub-app's guard):
 * every guard gets every report, built with its own options and delivered to its own
 * onViolation or logger; a late call throws if any of them is in throw mode for its kind, and is
 * contained if any has `contain` (and none throws); capture follows the most demanding; hangs
 * are watched with the first guard that watches hangs, and reported to all.
 */
import { ClientRequest, ServerResponse, type IncomingMessage } from 'node:http';
import type { Guard } from './guard.js';
import { patchPrototypes } from './patch/prototypes.js';
import { guardStatusCode } from './patch/status-code.js';
import { headersSent, now, ResponseState, trace, type GuardedResponse, type Subject, hasOwn } from './state.js';
import { kState } from './symbols.js';

/** A guard that comes to a response another guard already watches joins it (see the header comment). */
function join(state: ResponseState, guard: Guard): void {
  if (state.guard === guard || state.more?.includes(guard) === true) return;
  (state.more ??= []).push(guard);
  if (guard.options.mode === 'throw' && state.timeline === undefined) {
    state.timeline = [];
    state.startedAt = now();
  }
  if (guard.options.trackHeaders) state.headers ??= new Map();
  if (!state.watched) guard.hangWatch?.watch(state);
}

/** Start guarding one response with this guard (internal; the middleware and the preload call it). */
export function guardResponse(req: IncomingMessage, res: ServerResponse, guard: Guard): void {
  const guardedRes = res as GuardedResponse;
  try {
    // An own-property test first: reading a missing symbol walks the whole prototype chain, which
    // costs about a microsecond on a response whose prototype Express has just switched.
    if (hasOwn(res, kState)) {
      const existing = guardedRes[kState];
      if (existing !== undefined) {
        join(existing, guard);
        return;
      }
    }
    patchPrototypes(res);
    const state = new ResponseState(guard, req, guardedRes);
    guardedRes[kState] = state;
    guardStatusCode(guardedRes, state);
    guard.hangWatch?.watch(state);
    if (headersSent(res)) {
      state.sentStatus = state.statusCode;
      trace('%s %s: headers were already sent when header-guard saw the response', req.method, typeof req.url === 'string' ? req.url.split('?')[0] : '');
    }
  } catch (error) {
    // The guard must never break a response: this one goes on unguarded.
    trace('could not guard a response: %O', error);
  }
}

/** The process-wide guard of the preload, which adopts every server response (preload.ts). */
let processGuard: Guard | undefined;

/** Let the preload's guard adopt every server response a wrapper meets without state (internal). */
export function adoptEveryResponse(guard: Guard): void {
  processGuard = guard;
}

/**
 * A wrapper met a response with no state: under the preload, a server response that no
 * listening server announced (Fastify's inject(), serverless adapters, a ServerResponse a test
 * built) is guarded from this call on. Without the preload, or for anything else that shares
 * these methods (an outgoing ClientRequest), nothing happens.
 */
export function adopt(res: GuardedResponse): ResponseState | undefined {
  if (!(res instanceof ServerResponse)) return outgoing !== undefined && (res as unknown) instanceof ClientRequest ? adoptRequest(res as unknown as ClientRequest, outgoing) : undefined;
  if (processGuard === undefined) return undefined;
  const req = (res as { req?: unknown }).req;
  if (req === null || typeof req !== 'object') return undefined;
  guardResponse(req as IncomingMessage, res, processGuard);
  return hasOwn(res, kState) ? res[kState] : undefined;
}

/** The guard that adopts outgoing requests, and how it names them (adapters/outgoing.ts). */
interface OutgoingAdoption {
  guard: Guard;
  /** What an outgoing request is called in reports, and the fields its reports read. */
  describe: (request: ClientRequest) => { subject: Subject; req: IncomingMessage };
}

let outgoing: OutgoingAdoption | undefined;

/**
 * Let a guard adopt every outgoing ClientRequest (http and https) a wrapper meets without state,
 * from then on; `undefined` stops it. A ClientRequest shares OutgoingMessage's methods with
 * server responses, so the wrappers already see its calls (internal; adapters/outgoing.ts).
 */
export function adoptOutgoingRequests(adoption: OutgoingAdoption | undefined): void {
  outgoing = adoption;
}

/** Give an outgoing request its state: its calls are checked like a response's from now on. */
function adoptRequest(request: ClientRequest, adoption: OutgoingAdoption): ResponseState | undefined {
  try {
    const { subject, req } = adoption.describe(request);
    const guarded = request as unknown as GuardedResponse;
    const state = new ResponseState(adoption.guard, req, guarded);
    state.subject = subject;
    guarded[kState] = state;
    return state;
  } catch (error) {
    trace('could not guard an outgoing request: %O', error);
    return undefined;
  }
}
