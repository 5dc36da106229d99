/**
 * Guard every response in the process: one guard, subscribed to Node's
 * `http.server.request.start` diagnostics channel, which fires before a server's request listener
 * runs. Used by `header-guard/register` and by the test runner entries (internal).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { subscribeForever } from './channels.js';
import { Guard, guardResponse, guardServerApps } from './guard.js';
import type { HeaderGuardOptions } from './types.js';
import { resolveOptions } from './validations.js';

/** The message of Node's `http.server.request.start` channel. */
interface RequestStart {
  request: IncomingMessage;
  response: ServerResponse;
  server: unknown;
}

/**
 * Marks the process as guarded. A channel, not a global: Node's channels are shared by every
 * copy of this module in the process, including the copies jest loads once per test file into
 * a sandbox of its own, where `globalThis` and `process` differ.
 */
const installed = diagnosticsChannel.channel('header-guard:preload-installed');
const marker = (): void => undefined;

/**
 * Guard every response of every node:http server in the process with one guard made from
 * `options`. Idempotent for the whole process: the first call wins, later ones do nothing.
 * Bad options throw the same TypeError as `headerGuard(options)`.
 */
export function installPreload(options: HeaderGuardOptions): void {
  if (installed.hasSubscribers) return;
  const guard = new Guard(resolveOptions(options));
  installed.subscribe(marker);
  subscribeForever('http.server.request.start', (message) => {
    const { request, response, server } = message as RequestStart;
    guardServerApps(server);
    guardResponse(request, response, guard);
  });
}
