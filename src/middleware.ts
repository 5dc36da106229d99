/**
 * `headerGuard()`: the request's entry into the guard. Each request through the middleware gets
 * its response attached to this guard (attach.ts), its server's later responses a state slot at
 * request start (slot.ts), and its Express app's router a guarded `next` (patch/router.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { guardResponse } from './attach.js';
import { Guard } from './guard.js';
import { resolveOptions } from './options.js';
import { patchLayers } from './patch/router.js';
import { reserveSlotsFor } from './slot.js';
import type { HeaderGuardMiddleware, HeaderGuardOptions } from './types.js';

/**
 * Create the guard middleware.
 *
 * ```ts
 * app.use(headerGuard());                              // Express: mount it first
 * http.createServer((req, res) => guard(req, res, () => handler(req, res)));  // node:http
 * ```
 *
 * It watches every response that passes through it and reports any call made after the
 * response was sent (late status or header, second body, write after end, next() or an error
 * after the response), naming both the offending call and the earlier one. In log mode (the
 * default) it only observes: the app, its libraries and the client see what they see without it.
 *
 * @param options - see {@link HeaderGuardOptions}; checked now, a bad one throws a TypeError
 *   with code `ERR_HEADER_GUARD_INVALID_OPTION`.
 * @returns Connect/Express middleware.
 * @public
 */
export function headerGuard<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(
  options?: HeaderGuardOptions<Req, Res>,
): HeaderGuardMiddleware<Req, Res> {
  const resolved = resolveOptions(options);
  // enabled: false: a middleware that only passes the request on.
  if (!resolved.enabled) return (_req, _res, next) => next();
  const guard = new Guard(resolved);
  return function headerGuardMiddleware(req, res, next) {
    guardResponse(req, res, guard);
    reserveSlotsFor(req);
    patchLayers((req as IncomingMessage & { app?: unknown }).app);
    next();
  };
}
