/**
 * `header-guard/fastify`: the Fastify plugin. `app.register(headerGuardPlugin, options)` guards
 * every reply of the app (it skips Fastify's encapsulation, as fastify-plugin does, so its hooks
 * apply to the context it is registered in and every child context).
 *
 * Its hooks: onRequest attaches the guard's state to `reply.raw` (attach.ts, so raw calls are
 * reported by the core wrappers, inject() included) and gives the reply the wrappers of
 * fastify-reply.ts; onRoute wraps each route handler registered after the plugin. This is the
 * only file of the package that refers to Fastify, and only to its types.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginCallback, RouteOptions } from 'fastify';
import { guardResponse } from '../attach.js';
import { engine } from '../engine.js';
import { Guard } from '../guard.js';
import { resolveOptions, withoutRegisterOptions, type ResolvedOptions } from '../options.js';
import { kReplyGuard, kState } from '../symbols.js';
import type { GuardedResponse } from '../state.js';
import type { HeaderGuardOptions } from '../types.js';
import { OPTIONAL_WRAPPERS, REPLY_WRAPPERS, replyGuard, wrapHandler, type ReplyLike } from './fastify-reply.js';

/**
 * The plugin's options: the same as `headerGuard()`'s. `onViolation` and `logger` receive the
 * raw Node request and response under the reply (`request.raw`, `reply.raw`).
 *
 * @public
 */
export type HeaderGuardFastifyOptions = HeaderGuardOptions<IncomingMessage, ServerResponse>;

/** The guard's own options out of what `register()` passed. */
const guardOptions = (options: HeaderGuardFastifyOptions | undefined): HeaderGuardFastifyOptions => withoutRegisterOptions(options) as HeaderGuardFastifyOptions;

/**
 * Guard every reply of a Fastify app.
 *
 * ```ts
 * import Fastify from 'fastify';
 * import headerGuardPlugin from 'header-guard/fastify';
 *
 * const app = Fastify();
 * await app.register(headerGuardPlugin);   // register it first: routes added before it are not wrapped
 * ```
 *
 * It reports, naming the late call and the call that answered: a second `reply.send()` (and a
 * value returned from a handler that already sent), a late `reply.code()`, `status()`,
 * `header()`, `headers()`, `removeHeader()` or `redirect()`, raw calls on `reply.raw` after the
 * reply was sent, and an error thrown after the reply was sent. Log mode (the default) only
 * observes: Fastify, its hooks, its logs and the client see what they see without the plugin.
 * Throw mode makes the late call throw a `HeaderGuardError` (Fastify catches it and, since the
 * reply is sent, only logs it; the report is written first).
 *
 * @param fastify - the Fastify instance (given by `register()`).
 * @param options - see {@link HeaderGuardOptions}; a bad one fails `register()` with a TypeError
 *   whose code is `ERR_HEADER_GUARD_INVALID_OPTION`.
 * @param done - called when the hooks are added.
 * @public
 */
export const headerGuardPlugin: FastifyPluginCallback<HeaderGuardFastifyOptions> = function headerGuardPlugin(fastify, options, done) {
  // The process's engine serves the plugin (engine.ts): another copy's, or one that guards nothing.
  const served = engine.headerGuardPlugin;
  if (served !== undefined && served !== headerGuardPlugin) {
    served(fastify, options, done);
    return;
  }
  let resolved: ResolvedOptions;
  try {
    resolved = resolveOptions(guardOptions(options));
  } catch (error) {
    done(error as Error);
    return;
  }
  // enabled: false: a plugin that adds no hook.
  if (resolved.enabled) addHooks(fastify, new Guard(resolved));
  done();
};

/** The hooks (see the header comment). */
function addHooks(fastify: FastifyInstance, guard: Guard): void {
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (typeof route.handler === 'function') route.handler = wrapHandler(route.handler as Parameters<typeof wrapHandler>[0]) as RouteOptions['handler'];
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    const raw = reply.raw as GuardedResponse;
    guardResponse(request.raw, raw, guard);
    const state = raw[kState];
    const target = reply as unknown as ReplyLike & Record<string, unknown>;
    if (state !== undefined && target[kReplyGuard] === undefined) {
      target[kReplyGuard] = replyGuard(state);
      for (const [name, wrapper] of REPLY_WRAPPERS) target[name] = wrapper;
      for (const [name, wrapper] of OPTIONAL_WRAPPERS) if (typeof target[name] === 'function') target[name] = wrapper;
    }
    done();
  });
}

// fastify-plugin's metadata, set by hand so the package needs no runtime dependency: skip the
// encapsulation (hooks apply to the whole app), a display name, and the Fastify versions it fits.
const meta = headerGuardPlugin as unknown as Record<symbol, unknown>;
meta[Symbol.for('skip-override')] = true;
meta[Symbol.for('fastify.display-name')] = 'header-guard';
meta[Symbol.for('plugin-meta')] = { name: 'header-guard', fastify: '>=5.0.0' };

export default headerGuardPlugin;
