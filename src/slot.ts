/**
 * The state slot, reserved at request start. Express switches the response's prototype, and
 * after that V8 gives every response its own hidden class, so adding a property to it builds a
 * new class each time (2-3 µs per request on Node 20, once the guard's largest cost). A property
 * added before the switch, on the plain ServerResponse, follows a cached transition and costs
 * nothing measurable; the middleware then only assigns it.
 */
import type { IncomingMessage } from 'node:http';
import { subscribeForever } from './channels.js';
import { hasOwn, type GuardedResponse } from './state.js';
import { kState } from './symbols.js';

/**
 * Servers whose responses get an empty state slot when their request starts. Held weakly; a
 * process has a few servers, so the set never churns.
 */
const slotServers = new WeakSet<object>();
/** The server reserveSlotsFor saw last: a process nearly always has one. */
let lastSlotServer: unknown;
/** Whether reserveSlot listens to `http.server.request.start` yet (from the first server on, for good). */
let slotSubscribed = false;

/** From now on, give each response of this request's server an empty state slot at request start (the middleware calls it). */
export function reserveSlotsFor(req: IncomingMessage): void {
  const server: unknown = (req.socket as { server?: unknown } | null | undefined)?.server;
  if (server === lastSlotServer) return;
  lastSlotServer = server;
  if (server === null || typeof server !== 'object' || slotServers.has(server)) return;
  if (!slotSubscribed) {
    slotSubscribed = true;
    subscribeForever('http.server.request.start', reserveSlot);
  }
  slotServers.add(server);
}

/** At `http.server.request.start`: add the empty slot to a response of a server the middleware serves. */
function reserveSlot(message: unknown): void {
  const { response, server } = message as { response?: unknown; server?: unknown };
  if (server === null || typeof server !== 'object' || !slotServers.has(server)) return;
  if (response === null || typeof response !== 'object' || hasOwn(response, kState)) return;
  (response as GuardedResponse)[kState] = undefined;
}
