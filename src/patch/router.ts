/**
 * Watching Express's `next()`: the router's Layer hands each handler a guarded `next` that
 * reports next() and next(err) after the response was sent. In throw mode, an error that Express
 * then swallows (its final handler only closes the connection once the headers are out) is
 * rethrown once the response is over (report/surface.ts), so a strict test run fails; one that
 * reaches an app's own error handler counts as handled.
 */
import { HeaderGuardError } from '../errors.js';
import { flag, newErrorAfterSend } from '../report/flag.js';
import { track } from '../report/surface.js';
import { answered, handOver, takeBack, type AnyFunction, type GuardedResponse, type ResponseState, hasOwn } from '../state.js';
import { kPatched, kState } from '../symbols.js';

/** The guarded version of a router's `next`: reports next() and errors after the response was sent. */
function guardNext(state: ResponseState, next: AnyFunction): AnyFunction {
  if (state.rawNext === next && state.guardedNext !== undefined) return state.guardedNext;
  const guarded = function headerGuardNext(this: unknown, err?: unknown): unknown {
    // Called from inside a body call that sent nothing (a response hook): not after the answer.
    const handed = handOver(state);
    if (HeaderGuardError.isError(err)) track(state, err, err);
    else if (state.pending?.has(err) === true) track(state, err);
    else if (answered(state)) lateNext(state, guarded, err);
    if (handed === undefined) return next.apply(this, arguments as unknown as unknown[]);
    try {
      return next.apply(this, arguments as unknown as unknown[]);
    } finally {
      takeBack(state, handed);
    }
  };
  state.rawNext = next;
  state.guardedNext = guarded;
  return guarded;
}

/** next() or next(err) after the response was sent; each error and the first plain next() are reported once. */
function lateNext(state: ResponseState, guarded: AnyFunction, err: unknown): void {
  if (err && err !== 'route' && err !== 'router') {
    if (!newErrorAfterSend(state, err)) return;
    // next(err) is Express's own call (from its catch or a rejected promise): throwing here would
    // replace the app's error. The error goes on unchanged; in throw mode it is tracked, and
    // rethrown as a HeaderGuardError if no error handler of the app deals with it.
    const error = flag(state, 'error-after-send', 'next(err)', guarded, { error: err, defer: true });
    if (typeof error === 'object') track(state, err, error);
    return;
  }
  if (state.nextReported) return;
  state.nextReported = true;
  flag(state, 'next-after-send', typeof err === 'string' ? `next('${err}')` : 'next()', guarded);
}

/**
 * The `next` a Layer hands its handler: the guarded one. Where the router also exposes it as
 * `req.next` (router-level middleware), `req.next` becomes the guarded one too, so that
 * `next === req.next` still holds for the app (Express's `res.format` passes `req.next` along).
 * The router puts its own `req.next` back when it is done, as it always does.
 */
function nextForLayer(req: unknown, res: GuardedResponse | undefined, next: unknown): unknown {
  const state = res?.[kState];
  if (state === undefined || typeof next !== 'function') return next;
  const guarded = guardNext(state, next as AnyFunction);
  const request = req as { next?: unknown } | null;
  if (request !== null && typeof request === 'object' && request.next === next) request.next = guarded;
  return guarded;
}

/** Wrap a Layer's request handler entry so the handler gets a guarded `next`. */
function wrapHandleRequest(original: AnyFunction): AnyFunction {
  return function headerGuardHandleRequest(this: unknown, req: unknown, res: GuardedResponse | undefined, next: unknown): unknown {
    return original.call(this, req, res, nextForLayer(req, res, next));
  };
}

/**
 * Wrap a Layer's error handler entry the same way. A tracked error that reaches an app's own
 * error handler (arity 4) counts as handled, unless the handler passes it on again.
 */
function wrapHandleError(original: AnyFunction): AnyFunction {
  return function headerGuardHandleError(this: { handle?: unknown }, error: unknown, req: unknown, res: GuardedResponse | undefined, next: unknown): unknown {
    const entry = res?.[kState]?.pending?.get(error);
    if (entry !== undefined && entry.fate === 'passed' && typeof this.handle === 'function' && this.handle.length === 4) entry.fate = 'handled';
    return original.call(this, error, req, res, nextForLayer(req, res, next));
  };
}

/** The app patchLayers saw last: a server nearly always has one. */
let lastPatchedApp: unknown;

/** The router of an Express app: `_router` in Express 4 (whose `app.router` throws), `router` in 5. */
function routerOf(app: { _router?: unknown; router?: unknown }): unknown {
  try {
    return app._router ?? app.router;
  } catch {
    return undefined;
  }
}

/**
 * Patch the router Layer class of this Express app (Express 4's `handle_request`/`handle_error`,
 * the router package's `handleRequest`/`handleError`), once per app and per class.
 */
export function patchLayers(app: unknown): void {
  if (app === lastPatchedApp || typeof app !== 'function' || hasOwn(app, kPatched)) return;
  lastPatchedApp = app;
  try {
    Object.defineProperty(app, kPatched, { value: true });
    const stack = (routerOf(app as { _router?: unknown; router?: unknown }) as { stack?: unknown } | undefined)?.stack;
    const layer: unknown = Array.isArray(stack) ? stack[0] : undefined;
    if (layer === null || typeof layer !== 'object') return;
    const proto = Object.getPrototypeOf(layer) as Record<string, unknown>;
    if (hasOwn(proto, kPatched)) return;
    for (const name of ['handle_request', 'handleRequest']) {
      if (hasOwn(proto, name) && typeof proto[name] === 'function') proto[name] = wrapHandleRequest(proto[name] as AnyFunction);
    }
    for (const name of ['handle_error', 'handleError']) {
      if (hasOwn(proto, name) && typeof proto[name] === 'function') proto[name] = wrapHandleError(proto[name] as AnyFunction);
    }
    Object.defineProperty(proto, kPatched, { value: true });
  } catch {
    // An app we cannot patch still gets its response guarded; only next() goes unwatched.
  }
}
