/**
 * Watching Express's `next()`: the router's Layer hands each handler a guarded `next` that
 * reports next() and next(err) after the response was sent. In throw mode, an error that Express
 * then swallows (its final handler only closes the connection once the headers are out) is
 * rethrown once the response is over (report/surface.ts), so a strict test run fails; one that
 * reaches an app's own error handler counts as handled.
 *
 * A next() that ran before the answer can still let routing go on past it: the router finds no
 * further layer and calls its parent's next (or the final handler) from setImmediate, after the
 * handler answered. That deferred call is the router's, not a late call of the user's: the report
 * names the next() that left routing pending (remembered when it returned, with its site when
 * capture is on) and the answer.
 *
 * Stacks (patch/stack.ts): the Layer entry and the guarded next are each one frame, at their real
 * position in this file, with Error.stackTraceLimit one higher while they run; errors that go
 * through the guarded next(err) read without the guard's frames. A Layer method whose function
 * name is not its property name (Express 4's `handle_request` is `function handle`) keeps V8's
 * `Layer.handle [as handle_request]`: the original stays reachable under its name one step up
 * the prototype chain, where V8 looks for a method's name.
 */
import { HeaderGuardError } from '../errors.js';
import { framesToShow, captureStack, holderFrames } from '../report/callsite.js';
import { flag, newErrorAfterSend } from '../report/flag.js';
import { track } from '../report/surface.js';
import { answered, handOver, hasOwn, record, recordCall, takeBack, type AnyFunction, type GuardedResponse, type ResponseState } from '../state.js';
import { kPatched, kState } from '../symbols.js';
import { hideOwnFrames, lowerLimit, raiseLimit } from './stack.js';

/** How a next() call is shown: `next()`, `next('route')`. */
function describeNext(err: unknown): string {
  return typeof err === 'string' ? `next('${err}')` : 'next()';
}

/** The guarded version of a router's `next`: reports next() and errors after the response was sent. */
function guardNext(state: ResponseState, next: AnyFunction): AnyFunction {
  if (state.rawNext === next && state.guardedNext !== undefined) return state.guardedNext;
  const guarded = function headerGuardNext(this: unknown, err?: unknown): unknown {
    if (err !== undefined && err !== null && typeof err === 'object') hideOwnFrames(err);
    // Called from inside a body call that sent nothing (a response hook): not after the answer.
    const handed = handOver(state);
    const wasAnswered = answered(state);
    if (HeaderGuardError.isError(err)) track(state, err, err);
    else if (state.pending?.has(err) === true) track(state, err);
    else if (wasAnswered) lateNext(state, guarded, err);
    const entries = state.layerEntries;
    const limit = raiseLimit();
    let threw = true;
    try {
      const result = next.apply(this, arguments as unknown as unknown[]);
      threw = false;
      return result;
    } finally {
      lowerLimit(limit);
      // Routing went on without entering a layer and nothing answered: it is pending (deferred
      // to setImmediate, or to an asynchronous param). Remember this call as its cause.
      if (!wasAnswered && !threw && state.layerEntries === entries && !answered(state)) state.pendingNext = record(state, guarded, describeNext(err));
      if (handed !== undefined) takeBack(state, handed);
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
  const pending = state.pendingNext;
  if (pending !== undefined && !calledByUser(state, guarded)) {
    flag(state, 'next-after-send', recordCall(pending), guarded, continuedPast(state, pending));
    return;
  }
  flag(state, 'next-after-send', describeNext(err), guarded);
}

/** Whether the current call of `guarded` comes from the user's code (a frame of theirs on the stack), not from the router alone. */
function calledByUser(state: ResponseState, guarded: AnyFunction): boolean {
  const holder = captureStack(guarded, state.guard.stackLimit);
  let stack: unknown;
  try {
    stack = holder.stack;
  } catch {
    return true;
  }
  return framesToShow(stack, state.guard.frames, true).length > 0;
}

/**
 * The report of a next() that ran before the answer and let routing go on past it: the late site
 * is that next(), the other site the answer. The router's own deferred call is not shown.
 */
function continuedPast(state: ResponseState, pending: NonNullable<ResponseState['pendingNext']>): { offendingFrames: ReturnType<typeof holderFrames>; headline: string; offendingLabel: string } {
  const call = recordCall(pending);
  const answer = state.sent ?? state.claim;
  const by = answer === undefined ? '' : ` by ${recordCall(answer)}`;
  const site = pending.stack === undefined ? ' (its site was not captured: capture is off, or adaptive and this route had no report yet)' : '';
  return {
    offendingFrames: holderFrames(pending.stack, state.guard.frames),
    headline: `${call} was called before the response was sent${by}, and let routing go on past the answer: Express went on to the next handler for a request that is already answered.`,
    offendingLabel: `  ${call} called before the answer, routing went on past it${site}:`,
  };
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
  state.layerEntries++;
  state.pendingNext = undefined;
  const guarded = guardNext(state, next as AnyFunction);
  const request = req as { next?: unknown } | null;
  if (request !== null && typeof request === 'object' && request.next === next) request.next = guarded;
  return guarded;
}

/** Wrap a Layer's request handler entry so the handler gets a guarded `next`. */
function wrapHandleRequest(original: AnyFunction): AnyFunction {
  return function headerGuardHandleRequest(this: unknown, req: unknown, res: GuardedResponse | undefined, next: unknown): unknown {
    const limit = raiseLimit();
    try {
      return original.call(this, req, res, nextForLayer(req, res, next));
    } finally {
      lowerLimit(limit);
    }
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
    const limit = raiseLimit();
    try {
      return original.call(this, error, req, res, nextForLayer(req, res, next));
    } finally {
      lowerLimit(limit);
    }
  };
}

/**
 * The final handler (or a parent app's next) the app router calls when it runs out of layers,
 * guarded like a Layer's next. The response gets its state only later (headerGuard() is one of
 * the router's layers), so the state is looked up when routing gets there.
 */
function guardOut(res: GuardedResponse | undefined, out: unknown): unknown {
  if (res === null || typeof res !== 'object' || typeof out !== 'function') return out;
  return function headerGuardOut(this: unknown): unknown {
    const state = res[kState];
    const next = state === undefined ? out as AnyFunction : guardNext(state, out as AnyFunction);
    const limit = raiseLimit();
    try {
      return next.apply(this, arguments as unknown as unknown[]);
    } finally {
      lowerLimit(limit);
    }
  };
}

/**
 * Wrap the app router's `handle(req, res, out)` so that `out` is guarded too: routing that
 * reaches it after the answer is reported there.
 */
function wrapRouterHandle(original: AnyFunction): AnyFunction {
  return function headerGuardRouterHandle(this: unknown, req: unknown, res: GuardedResponse | undefined, out: unknown): unknown {
    const limit = raiseLimit();
    try {
      return original.call(this, req, res, guardOut(res, out));
    } finally {
      lowerLimit(limit);
    }
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
 * Keep each original reachable under its property name one step up the prototype chain, for
 * V8's method names in stacks (see the header comment); only where V8 could not find it by its
 * own function name, as for Express 4's `handle_request`.
 */
function keepMethodNames(proto: object, originals: Map<string, AnyFunction>): void {
  const names = [...originals].filter(([name, fn]) => fn.name !== name && (proto as Record<string, unknown>)[fn.name] !== fn);
  if (names.length === 0) return;
  const holder = Object.create(Object.getPrototypeOf(proto) as object | null) as object;
  for (const [name, fn] of names) Object.defineProperty(holder, name, { value: fn, enumerable: true, writable: true, configurable: true });
  Object.setPrototypeOf(proto, holder);
}

/**
 * Patch the router Layer class of this Express app (Express 4's `handle_request`/`handle_error`,
 * the router package's `handleRequest`/`handleError`), once per app and per class, and the app
 * router's `handle` (on that router only).
 */
export function patchLayers(app: unknown): void {
  if (app === lastPatchedApp || typeof app !== 'function' || hasOwn(app, kPatched)) return;
  lastPatchedApp = app;
  try {
    Object.defineProperty(app, kPatched, { value: true });
    const router = routerOf(app as { _router?: unknown; router?: unknown }) as { stack?: unknown; handle?: unknown } | undefined;
    if (router !== undefined && router !== null && typeof router.handle === 'function' && !hasOwn(router, 'handle')) {
      router.handle = wrapRouterHandle(router.handle as AnyFunction);
    }
    const stack = router?.stack;
    const layer: unknown = Array.isArray(stack) ? stack[0] : undefined;
    if (layer === null || typeof layer !== 'object') return;
    const proto = Object.getPrototypeOf(layer) as Record<string, unknown>;
    if (hasOwn(proto, kPatched)) return;
    const originals = new Map<string, AnyFunction>();
    for (const name of ['handle_request', 'handleRequest']) {
      if (hasOwn(proto, name) && typeof proto[name] === 'function') {
        originals.set(name, proto[name] as AnyFunction);
        proto[name] = wrapHandleRequest(proto[name] as AnyFunction);
      }
    }
    for (const name of ['handle_error', 'handleError']) {
      if (hasOwn(proto, name) && typeof proto[name] === 'function') {
        originals.set(name, proto[name] as AnyFunction);
        proto[name] = wrapHandleError(proto[name] as AnyFunction);
      }
    }
    keepMethodNames(proto, originals);
    Object.defineProperty(proto, kPatched, { value: true });
  } catch {
    // An app we cannot patch still gets its response guarded; only next() goes unwatched.
  }
}
