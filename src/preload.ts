/**
 * The process-wide guard of the preload (`header-guard/register` and the test-runner entries):
 * one guard for every server response in the process. Responses of listening node:http servers
 * are attached at Node's `http.server.request.start` channel, before any listener runs, and the
 * router of each Express app on the server gets a guarded `next`; any other server response
 * (Fastify's inject(), a hand-made ServerResponse) is adopted by the first guarded method it
 * calls (attach.ts). The first call's options win; later calls change nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import { adoptEveryResponse, guardResponse } from './attach.js';
import { subscribeForever } from './channels.js';
import { Guard } from './guard.js';
import { resolveOptions } from './options.js';
import { patchChain } from './patch/prototypes.js';
import { patchLayers } from './patch/router.js';
import type { HeaderGuardOptions } from './types.js';

/** The message of Node's `http.server.request.start` channel. */
interface RequestStart {
  request: IncomingMessage;
  response: ServerResponse;
  server: unknown;
}

/** Servers whose request listeners were checked for Express apps. */
const checkedServers = new WeakSet<object>();

/** Find the Express apps among a server's request listeners and guard their routers' next(). */
function guardServerApps(server: unknown): void {
  if (server === null || typeof server !== 'object' || checkedServers.has(server)) return;
  const listeners = (server as { listeners?: (event: string) => unknown[] }).listeners;
  if (typeof listeners !== 'function') return;
  checkedServers.add(server);
  for (const listener of listeners.call(server, 'request')) {
    patchLayers(listener);
    // The response is still a plain ServerResponse when the channel fires: Express gives it its
    // app's prototype later, so wrap Express's methods through the app now.
    if (typeof listener === 'function') patchChain((listener as { response?: unknown }).response);
  }
}

/** The preload's guard, once installed. */
let installed: Guard | undefined;

/**
 * Guard every server response in this process with one guard (internal: the register entry and
 * the test-runner entries call it). Idempotent: the first call's options win.
 */
export function installPreload(options: HeaderGuardOptions): void {
  if (installed !== undefined) return;
  const resolved = resolveOptions(options);
  if (!resolved.enabled) return;
  const guard = new Guard(resolved);
  installed = guard;
  // Node's own methods are wrapped now, so that responses no server announces can be adopted.
  patchChain(http.ServerResponse.prototype);
  adoptEveryResponse(guard);
  subscribeForever('http.server.request.start', (message) => {
    const { request, response, server } = message as RequestStart;
    guardServerApps(server);
    guardResponse(request, response, guard);
  });
}
