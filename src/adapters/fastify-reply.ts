/**
 * The Fastify adapter's view of one reply: its per-reply record (ReplyGuard) and the wrappers of
 * the reply methods users call (send, code/status, header/headers/removeHeader, redirect, and
 * @fastify/static's sendFile/download when present), plus the wrapper of route handlers that
 * sees a value returned or an error thrown after the reply was sent.
 *
 * How calls are seen: Fastify has no hook for `reply.send()` or `reply.code()`, and
 * `decorateReply` refuses existing names. So the plugin's onRequest hook gives each reply own
 * properties that point at the shared wrappers below (no closure per request); each wrapper
 * calls the method of the reply's prototype with the same `this` and arguments and returns what
 * it returns, so chaining, `reply.sent`, Fastify's warnings and errors, and onSend payload
 * changes are Fastify's own. Route handlers are wrapped through the onRoute hook.
 *
 * The response under a reply is `reply.raw` (attach.ts gives it its state), so raw calls are the
 * core wrappers' business; these wrappers only make the reply's calls the ones reports name, and
 * keep the core quiet while a reported reply call runs (Fastify's code() sets raw.statusCode).
 */
import { isPromise } from 'node:util/types';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderGuardError, isError, stackOf } from '../errors.js';
import { describeError } from '../report/build.js';
import { flag, newErrorAfterSend, type FlagDetails } from '../report/flag.js';
import { track } from '../report/surface.js';
import { headersSent, note, now, record, statusSent, type AnyFunction, type ResponseState, type SendRecord } from '../state.js';
import { kReplyGuard, kWrapped } from '../symbols.js';

/** What a reply looks like to the adapter: Fastify's public reply surface it reads. */
export interface ReplyLike {
  raw: ServerResponse;
  request: { raw: IncomingMessage; method?: string; routeOptions?: { url?: string | undefined } };
  readonly sent: boolean;
  [kReplyGuard]?: ReplyGuard;
}

/** Nothing marked (a returned value may be `undefined`, so a sentinel). */
const NONE: unique symbol = Symbol('none');

/** Per-reply record of the adapter (internal). */
export interface ReplyGuard {
  state: ResponseState;
  /** More than 0 while a wrapped reply call runs: the calls it makes are its own. */
  depth: number;
  /** Whether a send (or redirect, sendFile) has answered this reply. */
  claimed: boolean;
  /** The next send continues the claim: the error handler's answer, or a plugin's send after sendFile. */
  continuing: boolean;
  /** The value the handler returned: Fastify sends it next. */
  returned: unknown;
  /** An async handler resolved with undefined: Fastify sends again when the reply has not gone out. */
  resolved: boolean;
  /** An error the handler threw (before or after the answer): Fastify passes it to send next. */
  thrown: unknown;
}

/** Create the record of a reply (the plugin's onRequest hook). */
export function replyGuard(state: ResponseState): ReplyGuard {
  return { state, depth: 0, claimed: false, continuing: false, returned: NONE, resolved: false, thrown: NONE };
}

type ReplyMethod = (this: ReplyLike, ...args: unknown[]) => unknown;

/** The reply's own method under the wrapper: the one its prototype chain holds. */
function original(reply: ReplyLike, name: string): ReplyMethod {
  return (Object.getPrototypeOf(reply) as Record<string, ReplyMethod>)[name] as ReplyMethod;
}

/** The route, as reports show it (Express reports read it from req.route; Fastify keeps it on the request). */
function routeNote(reply: ReplyLike): string[] {
  const url = reply.request.routeOptions?.url;
  return typeof url === 'string' ? [`  route: ${reply.request.method ?? reply.request.raw.method ?? ''} ${url} (Fastify)`] : [];
}

/** Run a reply's own method as one call of the adapter: nested reply calls are its own; `quiet` keeps the core quiet too. */
function run(reply: ReplyLike, guard: ReplyGuard, name: string, args: unknown[], quiet: boolean): unknown {
  guard.depth++;
  if (quiet) guard.state.quiet++;
  try {
    return original(reply, name).apply(reply, args);
  } finally {
    guard.depth--;
    if (quiet) guard.state.quiet--;
  }
}

/** Report a late reply call (throws in throw mode), then let it run as Fastify runs it. */
function late(reply: ReplyLike, guard: ReplyGuard, kind: 'late-status' | 'late-header' | 'double-send' | 'error-after-send', call: string, wrapper: AnyFunction | undefined, name: string, args: unknown[], details: FlagDetails = {}): unknown {
  details.notes = [...(details.notes ?? []), ...routeNote(reply)];
  flag(guard.state, kind, call, wrapper, details);
  return run(reply, guard, name, args, true);
}

/** Whether this reply has answered: its headers are out, it ended, or a send claimed it. */
function answered(reply: ReplyLike, guard: ReplyGuard): boolean {
  return guard.claimed || headersSent(reply.raw) || reply.sent;
}

/** A claim the report names as the first send; `stack` given when it comes from an error's own stack. */
function claim(guard: ReplyGuard, wrapper: AnyFunction, call: string, stack?: unknown): void {
  const state = guard.state;
  const sendRecord: SendRecord = stack === undefined ? record(state, wrapper, call) : { method: call, status: undefined, stack: { stack }, at: now(), serial: state.serial };
  state.claim = sendRecord;
  guard.claimed = true;
  if (state.timeline !== undefined) note(state, `${call} claims the reply`);
}

/** The record of a reply, when this reply is guarded and no wrapped call of it is running. */
function active(reply: ReplyLike): ReplyGuard | undefined {
  const guard = reply == null ? undefined : reply[kReplyGuard];
  return guard === undefined || guard.depth > 0 || guard.state.quiet > 0 ? undefined : guard;
}

/** How reports name Fastify's send of what the handler returned, and of an async handler that resolved. */
const RETURNED = 'return <value>';
const RESOLVED = 'async handler resolved';

/** `reply.send(payload)`: the first one claims the reply; one after the answer is a double send. */
export function send(this: ReplyLike, payload?: unknown): unknown {
  if (HeaderGuardError.isError(payload)) {
    swallowed(this, payload);
    return original(this, 'send').call(this, payload);
  }
  const guard = active(this);
  if (guard === undefined) return original(this, 'send').call(this, payload);
  let call = 'reply.send()';
  let stack: unknown;
  if (guard.returned !== NONE && payload === guard.returned) call = RETURNED;
  else if (guard.resolved && payload === undefined) call = RESOLVED;
  else if (guard.thrown !== NONE && payload === guard.thrown) {
    call = 'error thrown by the handler';
    stack = stackOf(payload);
  } else if (isError(payload)) call = 'reply.send(error)';
  const fromHandler = guard.thrown !== NONE && payload === guard.thrown;
  guard.returned = NONE;
  guard.resolved = false;
  guard.thrown = NONE;
  if (guard.continuing && !headersSent(this.raw) && !this.sent) {
    guard.continuing = isError(payload);
    return run(this, guard, 'send', [payload], false);
  }
  if (answered(this, guard)) {
    // An error the handler threw after answering was reported by the handler's wrapper.
    if (fromHandler) return run(this, guard, 'send', [payload], true);
    if (call === RETURNED || call === RESOLVED) {
      // A return has no call site: the report says what Fastify does with it, and names the route.
      const first = guard.state.claim?.method ?? 'reply.send()';
      return late(this, guard, 'double-send', call, undefined, 'send', [payload], {
        headline: call === RETURNED
          ? `the handler returned a value after ${first} answered: Fastify drops it, and warns "Reply was already sent" only with its logger on.`
          : `the async handler resolved without \`return reply\` while ${first} was still sending: Fastify sends the reply a second time.`,
        offendingLabel: `  late call: ${call} (a return has no call site; Fastify's wrap-thenable sends it)`,
        offendingFrames: [],
      });
    }
    return late(this, guard, 'double-send', call, send, 'send', [payload]);
  }
  claim(guard, send, call, stack);
  // Fastify answers an error through the error handler, whose own send continues this claim.
  guard.continuing = isError(payload);
  try {
    return run(this, guard, 'send', [payload], false);
  } catch (error) {
    if (!headersSent(this.raw)) {
      guard.claimed = false;
      guard.state.claim = undefined;
    }
    throw error;
  }
}

/** A status code as Fastify reads it (`+code`), when it is one. */
function statusOf(code: unknown): number | undefined {
  const status = typeof code === 'number' || typeof code === 'string' ? +code : NaN;
  return Number.isInteger(status) && status >= 100 && status <= 599 ? status : undefined;
}

/** `reply.code(status)` and `reply.status(status)`: late once the headers are out with another status. */
function statusWrapper(name: 'code' | 'status'): ReplyMethod {
  const wrapper = function (this: ReplyLike, code: unknown): unknown {
    const guard = active(this);
    if (guard === undefined) return original(this, name).call(this, code);
    const status = statusOf(code);
    if (status !== undefined && headersSent(this.raw) && status !== statusSent(guard.state)) {
      return late(this, guard, 'late-status', `reply.${name}(${status})`, wrapper, name, [code], { requestedStatus: status });
    }
    return run(this, guard, name, [code], false);
  };
  return wrapper;
}
export const code = statusWrapper('code');
export const status = statusWrapper('status');

/** How a header name is shown: names only, never values. */
function headerCall(name: string, key: unknown): string {
  if (typeof key === 'string') return `reply.${name}('${key.length > 60 ? `${key.slice(0, 60)}…` : key}')`;
  return `reply.${name}(${key !== null && typeof key === 'object' ? '{…}' : ''})`;
}

/** header, headers, removeHeader: late once the headers are out (Fastify then ignores them silently). */
function headerWrapper(name: 'header' | 'headers' | 'removeHeader'): ReplyMethod {
  const wrapper = function (this: ReplyLike, ...args: unknown[]): unknown {
    const guard = active(this);
    if (guard === undefined) return original(this, name).apply(this, args);
    if (headersSent(this.raw)) return late(this, guard, 'late-header', headerCall(name, args[0]), wrapper, name, args, { nodeWouldThrow: false });
    return run(this, guard, name, args, false);
  };
  return wrapper;
}
export const header = headerWrapper('header');
export const headers = headerWrapper('headers');
export const removeHeader = headerWrapper('removeHeader');

/** redirect, sendFile, download: body calls; the first claims the reply, a later one is a double send. */
function bodyWrapper(name: 'redirect' | 'sendFile' | 'download', asynchronous: boolean): ReplyMethod {
  const wrapper = function (this: ReplyLike, ...args: unknown[]): unknown {
    const guard = active(this);
    if (guard === undefined) return original(this, name).apply(this, args);
    if (answered(this, guard)) return late(this, guard, 'double-send', `reply.${name}()`, wrapper, name, args);
    claim(guard, wrapper, `reply.${name}()`);
    // sendFile and download send later (after a stat): that send continues this claim.
    guard.continuing = asynchronous;
    return run(this, guard, name, args, false);
  };
  return wrapper;
}
export const redirect = bodyWrapper('redirect', false);
export const sendFile = bodyWrapper('sendFile', true);
export const download = bodyWrapper('download', true);

/** The wrappers a reply gets, by method name. */
export const REPLY_WRAPPERS: ReadonlyArray<readonly [string, ReplyMethod]> = [
  ['send', send as ReplyMethod], ['code', code], ['status', status], ['header', header], ['headers', headers],
  ['removeHeader', removeHeader], ['redirect', redirect],
];
/** Wrapped only when a plugin decorated the reply with them (@fastify/static). */
export const OPTIONAL_WRAPPERS: ReadonlyArray<readonly [string, ReplyMethod]> = [['sendFile', sendFile], ['download', download]];

/**
 * The guard's own error of throw mode is on its way into Fastify after the reply was answered,
 * where Fastify drops it (reply.send() only warns once the reply is sent, a rejection is only
 * logged) or, while the first answer is still in its onSend hooks, hands it to an error handler
 * that can no longer answer: it is rethrown once the response is over, so a strict run fails
 * (report/surface.ts).
 */
function swallowed(reply: ReplyLike, error: Error): void {
  const guard = reply == null ? undefined : reply[kReplyGuard];
  if (guard !== undefined && answered(reply, guard)) track(guard.state, error, error);
}

/**
 * An error that reached Fastify after the reply was answered: reported with the error's own
 * stack, once (not Node's answer to a late raw call already reported, nor the guard's own error).
 * In throw mode the app's error goes on to Fastify unchanged, as Express's next(err) does, and
 * the guard's error is rethrown once the response is over (Fastify would only log it).
 */
function errorAfterSend(reply: ReplyLike, guard: ReplyGuard, error: unknown, skip: AnyFunction | undefined, how: 'throw' | 'rejection'): void {
  const state = guard.state;
  if (HeaderGuardError.isError(error)) {
    swallowed(reply, error);
    return;
  }
  if (!newErrorAfterSend(state, error)) return;
  const fate = how === 'throw' ? 'Fastify passes it to reply.send(), which drops it (it logs only a warning, and only with its logger on)' : 'Fastify only logs "Promise errored, but reply.sent = true was set"';
  const verdict = flag(state, 'error-after-send', how === 'throw' ? 'throw' : 'rejected promise', skip, {
    error,
    defer: true,
    headline: `an error reached Fastify after the reply was sent (${describeError(error)}): the client already has its answer; ${fate}.`,
    offendingLabel: how === 'throw' ? '  error thrown by the handler after the reply was sent:' : '  error the async handler rejected with, after the reply was sent:',
    notes: routeNote(reply),
  });
  if (typeof verdict === 'object') track(state, error, verdict);
}

type Handler = ((this: unknown, request: unknown, reply: ReplyLike) => unknown) & { [kWrapped]?: true };

/**
 * Wrap a route handler (the onRoute hook): same `this`, arguments, return value and throw. It
 * marks what the handler returned (Fastify sends it next) and reports an error thrown, or a
 * native promise rejected, after the reply was answered. Thenables that are not native promises
 * are left alone: calling their `then` a second time could run them twice.
 */
export function wrapHandler(handler: Handler): Handler {
  if (handler[kWrapped] === true) return handler;
  const guarded: Handler = function (this: unknown, request: unknown, reply: ReplyLike): unknown {
    const guard = reply == null ? undefined : reply[kReplyGuard];
    if (guard === undefined) return handler.call(this, request, reply);
    let result: unknown;
    try {
      result = handler.call(this, request, reply);
    } catch (error) {
      guard.thrown = error;
      if (answered(reply, guard)) errorAfterSend(reply, guard, error, guarded, 'throw');
      throw error;
    }
    if (result === undefined) return result;
    if (isPromise(result)) {
      // Registered before Fastify's own reactions, so these run first.
      result.then((value) => {
        // As wrap-thenable decides: it sends a value, or undefined when the reply has not gone out.
        if (value !== undefined) guard.returned = value;
        else if (!reply.sent && !headersSent(reply.raw)) guard.resolved = true;
      }, (error: unknown) => {
        if (answered(reply, guard)) errorAfterSend(reply, guard, error, undefined, 'rejection');
      });
    } else {
      guard.returned = result;
    }
    return result;
  };
  guarded[kWrapped] = true;
  return guarded;
}
