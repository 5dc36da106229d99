/**
 * One engine per process. Two copies of header-guard can meet in one process: the preload from
 * one install and the app's own copy from another, or two versions deduplicated differently.
 * Two engines would each wrap the response methods and keep their own state, and the second
 * would misread the first's (a correct 404 reported as a late status). So the first copy loaded
 * publishes its engine, and every later copy of the same internal protocol serves
 * its users from it (published on a process-wide channel object, see `registry`): one set of
 * wrappers, one state per response, one `stats()`, the Koa and Fastify adapters included. A later
 * copy of another protocol cannot share it; it says so once on stderr and stays out of the way
 * (its middleware only calls `next()`, its Koa middleware only `await next()`, its Fastify plugin
 * adds no hook), so that no response is guarded twice.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { headerGuardPlugin } from './adapters/fastify.js';
import type { koaHeaderGuard } from './adapters/koa.js';
import { resolveOptions, withoutRegisterOptions } from './options.js';
import { refuseUnsupportedRuntime } from './runtime.js';
import { headerGuard } from './middleware.js';
import { offByEnvironment, tellOff } from './off-switch.js';
import { installPreload } from './preload.js';
import { resetStats, stats } from './stats.js';
import { kEngine, PROTOCOL } from './symbols.js';
import type { HeaderGuardMiddleware, HeaderGuardOptions } from './types.js';
import { headerOrigins } from './watch/origins.js';

/** What a copy publishes for the others. Its shape is part of the protocol: add, never change. */
export interface Engine {
  protocol: number;
  version: string;
  headerGuard: typeof headerGuard;
  headerOrigins: typeof headerOrigins;
  stats: typeof stats;
  resetStats: typeof resetStats;
  installPreload: typeof installPreload;
  /** The Koa middleware; absent from a first copy that predates it (a later copy then serves its own). */
  koaHeaderGuard?: typeof koaHeaderGuard;
  /** The Fastify plugin; absent from a first copy that predates it (a later copy then serves its own). */
  headerGuardPlugin?: typeof headerGuardPlugin;
}

/** This copy's version, for the message a copy of another protocol prints. */
function ownVersion(): string {
  try {
    return (require('../package.json') as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const own: Engine = { protocol: PROTOCOL, version: ownVersion(), headerGuard, headerOrigins, stats, resetStats, installPreload };
// The adapters load when an app first asks for one, so an Express app loads neither.
Object.defineProperties(own, {
  koaHeaderGuard: { get: () => (require('./adapters/koa.js') as typeof import('./adapters/koa.js')).koaHeaderGuard, enumerable: false },
  headerGuardPlugin: { get: () => (require('./adapters/fastify.js') as typeof import('./adapters/fastify.js')).headerGuardPlugin, enumerable: false },
});

/** An engine that guards nothing: its middleware only calls `next()`; `tell` says why, once. */
function passive(tell: () => void): Engine {
  return {
    ...own,
    headerGuard<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(options?: HeaderGuardOptions<Req, Res>): HeaderGuardMiddleware<Req, Res> {
      resolveOptions(options);
      tell();
      return (_req, _res, next) => next();
    },
    installPreload(options) {
      resolveOptions(options);
      tell();
    },
    koaHeaderGuard(options) {
      resolveOptions(options);
      tell();
      return (_ctx, next) => next().then(() => undefined);
    },
    headerGuardPlugin(_fastify, options, done) {
      try {
        resolveOptions(withoutRegisterOptions(options));
      } catch (error) {
        done(error as Error);
        return;
      }
      tell();
      done();
    },
  };
}

/** This copy stands aside for another engine: say why, once, and guard nothing. */
function standAside(other: Engine): Engine {
  let told = false;
  return passive(() => {
    if (told) return;
    told = true;
    process.stderr.write(
      `header-guard: another copy of header-guard (${String(other.version)}, internal protocol ${String(other.protocol)}) already guards this process; ` +
        `this copy (${own.version}, protocol ${PROTOCOL}) cannot share its state, so it guards nothing. Install one version of header-guard (npm ls header-guard).\n`,
    );
  });
}

/**
 * Where the engine is published: on a diagnostics channel object, not on globalThis. Node keeps
 * one channel object per name for the whole process, shared by every copy of this module,
 * including the copies jest loads once per test file into a sandbox with its own globalThis.
 * Held here, so the channel object lives as long as the first copy does.
 */
const registry = diagnosticsChannel.channel('header-guard:engine') as diagnosticsChannel.Channel & { [kEngine]?: Engine };

/**
 * The engine this copy serves its users from: its own, or the first copy's; one that guards
 * nothing when `HEADER_GUARD=off` (off-switch.ts, said once when first used), or on a runtime the
 * guard cannot serve (runtime.ts, said once as a process warning).
 */
function claim(): Engine {
  if (offByEnvironment(process.env)) return passive(tellOff);
  if (refuseUnsupportedRuntime()) return passive(() => undefined);
  const existing = registry[kEngine];
  if (existing === undefined) {
    Object.defineProperty(registry, kEngine, { value: own, configurable: false, enumerable: false, writable: false });
    return own;
  }
  return existing.protocol === PROTOCOL ? existing : standAside(existing);
}

/** The process's engine (internal). */
export const engine: Engine = claim();
