/**
 * `header-guard/koa`: `app.use(koaHeaderGuard())`, first. Koa's entry into the guard: each
 * request's Node response (`ctx.res`) gets the guard's state (attach.ts), so raw `ctx.res` calls
 * are guarded by the core's wrappers; the app's Koa setters are shadowed once per app
 * (koa-response.ts); and when the middleware chain is done, the call that set the answer
 * becomes the response's claim, so a later report names it, not Koa's respond().
 *
 * Here too log mode only observes: Koa, the app and the client see what they see without it.
 * Koa is an optional peer dependency: nothing of it is imported, not even its types; the context
 * is typed by what the guard reads of it, which every Koa context satisfies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { guardResponse } from '../attach.js';
import { engine } from '../engine.js';
import { HeaderGuardError } from '../errors.js';
import { Guard } from '../guard.js';
import { resolveOptions } from '../options.js';
import { holderFrames } from '../report/callsite.js';
import { flag } from '../report/flag.js';
import { track } from '../report/surface.js';
import { reserveSlotsFor } from '../slot.js';
import { headersSent, now, writableEnded, type GuardedResponse, type ResponseState, type SendRecord } from '../state.js';
import { kAnswer, kMixed, kState } from '../symbols.js';
import type { HeaderGuardOptions } from '../types.js';
import { patchKoaResponse, type KoaResponseLike } from './koa-response.js';

/**
 * What the guard reads of a Koa context. Every Koa 2 and 3 context (`ParameterizedContext` of
 * `@types/koa`) is one, so `app.use(koaHeaderGuard())` type-checks without Koa's types here.
 *
 * @public
 */
export interface KoaContextLike {
  req: IncomingMessage;
  res: ServerResponse;
  /** Koa's response object: its prototype is the app's `app.response`. */
  response: object;
  /** Koa's `ctx.app`: emits `'error'` for failures that have no response left to go to. */
  app: KoaAppLike;
  /** `false` when the app answers through `ctx.res` itself. */
  respond?: boolean;
  method: string;
}

/**
 * What the guard reads of a Koa app (`ctx.app`): its `'error'` event, and Koa's default listener
 * of it, `onerror`, which only logs.
 *
 * @public
 */
export interface KoaAppLike {
  emit(event: 'error', error: unknown, ctx: unknown): unknown;
  listeners(event: 'error'): unknown[];
  /** Koa's own listener of `'error'`, which only logs (the guard compares it, never calls it). */
  onerror: unknown;
}

/**
 * Koa middleware, as `app.use()` takes it.
 *
 * @public
 */
export type KoaHeaderGuardMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;

/** Statuses Koa's respond() answers with no body (`statuses.empty`). */
const EMPTY_STATUSES: ReadonlySet<unknown> = new Set([204, 205, 304]);

/**
 * Create the Koa middleware. Mount it first, so that it sees every response and every call.
 *
 * ```ts
 * import Koa from 'koa';
 * import { koaHeaderGuard } from 'header-guard/koa';
 *
 * const app = new Koa();
 * app.use(koaHeaderGuard());
 * ```
 *
 * It reports `ctx.status =`, `ctx.set()`/`append()`/`remove()`, `ctx.type =`, `ctx.body =` and
 * `ctx.redirect()` made after the response was sent (which Koa ignores), raw `ctx.res` calls
 * after it (as `headerGuard()` does), and a raw `ctx.res.write()` mixed with Koa's own answer.
 * Each report names the late call and the call that set the answer that went out. Reports go
 * where `headerGuard()`'s go: the logger or `onViolation`, the `header-guard:violation`
 * channel, `stats()`, and the testing helpers.
 *
 * @param options - the options of `headerGuard()` ({@link HeaderGuardOptions}); checked now, a
 *   bad one throws a TypeError with code `ERR_HEADER_GUARD_INVALID_OPTION`.
 * @returns Koa middleware.
 * @public
 */
export function koaHeaderGuard(options?: HeaderGuardOptions<IncomingMessage, ServerResponse>): KoaHeaderGuardMiddleware {
  // The process's engine serves the middleware (engine.ts): another copy's, or one that guards nothing.
  const served = engine.koaHeaderGuard;
  if (served !== undefined && served !== koaHeaderGuard) return served(options);
  const resolved = resolveOptions(options);
  // enabled: false: a middleware that only passes the context on.
  if (!resolved.enabled) return (_ctx, next) => next().then(() => undefined);
  const guard = new Guard(resolved);
  return function koaHeaderGuardMiddleware(ctx, next) {
    const res = ctx.res as GuardedResponse;
    guardResponse(ctx.req, res, guard);
    // From the next request on, this server's responses get their state slot when they start,
    // before Koa's handleRequest() assigns `res.statusCode = 404` (patch/status-code.ts says why).
    reserveSlotsFor(ctx.req);
    const response = ctx.response as KoaResponseLike;
    patchKoaResponse(Object.getPrototypeOf(response) as object);
    const state = res[kState];
    if (state === undefined) return next().then(() => undefined);
    return next().then(
      () => settle(ctx, response, state),
      (error: unknown) => {
        if (HeaderGuardError.isError(error)) toErrorEvent(ctx, state, error);
        failed(state, error);
        throw error;
      },
    );
  };
}

/**
 * The chain is done and Koa's respond() comes next. The call that set the answer becomes the
 * claim, so the flush respond() makes is named after it. When a raw `ctx.res` call has already
 * flushed the headers and respond() is still to write a body, the client gets both: reported.
 */
function settle(ctx: KoaContextLike, response: KoaResponseLike, state: ResponseState): void {
  const res = state.res;
  const answer = response[kAnswer];
  if (!headersSent(res)) {
    if (answer === undefined) return;
    // respond() sends it now (koa-response.ts leaves the record's time to this moment).
    answer.at = now();
    state.claim = answer;
    return;
  }
  if (writableEnded(res) || ctx.respond === false || response[kMixed] === true || ctx.method === 'HEAD' || EMPTY_STATUSES.has(state.statusCode)) return;
  if (state.quiet > 0) return;
  try {
    mixed(ctx, response, state, answer);
  } catch {
    // flag() throws only the deliberate error of throw mode, which mixed() defers.
  }
}

/** Report a raw write that Koa's respond() will follow with its own body. */
function mixed(ctx: KoaContextLike, response: KoaResponseLike, state: ResponseState, answer: SendRecord | undefined): void {
  const body = response.body;
  const fromBody = body !== null && body !== undefined && answer !== undefined;
  const record = fromBody ? answer : undefined;
  const verdict = flag(state, 'double-send', fromBody ? `Koa's respond() with ${record?.method ?? 'ctx.body ='}` : "Koa's respond() with its default body", undefined, {
    defer: true,
    offendingFrames: record === undefined ? [] : holderFrames(record.stack, state.guard.frames),
    offendingLabel: fromBody ? `  the body it sends was set by ${record?.method ?? 'ctx.body ='}:` : '  late call: Koa\'s respond() (ctx.body was never set)',
    notes: ['  Koa answers after the middleware chain unless ctx.respond = false: its body is appended to the raw write, and the client gets both.'],
  });
  // Throw mode has no caller to throw to here: the error goes where Koa sends errors that come
  // after the headers, the app's 'error' event; respond() then runs as it would.
  if (verdict instanceof HeaderGuardError) {
    toErrorEvent(ctx, state, verdict);
    ctx.app.emit('error', verdict, ctx);
  }
}

/**
 * The guard's error of throw mode is on its way to the app's `'error'` event (Koa's onerror()
 * sends every error of the chain there). Without a listener of the app's own, Koa's default only
 * logs it, and a test would pass: it is rethrown once the response is over (report/surface.ts).
 * An app that listens itself keeps it, as an Express error handler does.
 */
function toErrorEvent(ctx: KoaContextLike, state: ResponseState, error: Error): void {
  const app = ctx.app;
  let listeners: unknown[] = [];
  try {
    listeners = app.listeners('error');
  } catch {
    // Not an EventEmitter after all: Koa's default is all there is.
  }
  if (listeners.every((listener) => listener === app.onerror)) track(state, error, error);
}

/**
 * The chain failed. When it failed with the guard's own error of throw mode after a raw write
 * flushed the headers, Koa's onerror() can neither answer nor end the response, and the client
 * would wait forever: the guard ends it (Express destroys the socket in the same case).
 */
function failed(state: ResponseState, error: unknown): void {
  const res = state.res;
  if (!HeaderGuardError.isError(error) || !headersSent(res) || writableEnded(res)) return;
  state.quiet++;
  try {
    res.end();
  } catch {
    // The socket is gone: nothing to end.
  } finally {
    state.quiet--;
  }
}

export default koaHeaderGuard;
