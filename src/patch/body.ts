/**
 * The roles of the body methods: Express's send, json, jsonp, sendStatus and redirect (sync: the
 * first one claims the response for good) and sendFile, download and render (async: they claim
 * it until they call back). A second body call while the response is claimed, or once its
 * headers are out, is a double send: reported, then run on as it would without the guard.
 */
import { describeCall } from '../report/build.js';
import { flag } from '../report/flag.js';
import { answered, enter, headersSent, note, record, recordCall, release, traceEvent, type AnyFunction, type GuardedResponse, type ResponseState, type SendRecord } from '../state.js';
import { argumentsOf, finish, includeValues } from './response.js';
import { ARGS, BODY, CONTAIN, OUTER, PASS, QUIET, RUN, type After, type Before, type BeforeWithArguments } from './wrapper.js';

/**
 * Start a body call: a claim when the response is free, a reported double send (which then runs
 * on, quiet) when it is not. Returns the step bits, or undefined when the call is a claim whose
 * `claimed` callback decided to leave it unclaimed.
 */
function startBody(state: ResponseState, self: GuardedResponse, wrapper: AnyFunction, name: string, assigned: boolean, status: unknown, args: ArrayLike<unknown>, claimed?: (claim: SendRecord) => number | undefined): number {
  let step = RUN | BODY;
  const code = typeof status === 'number' ? status : undefined;
  if (state.quiet === 0 && answered(state)) {
    // A function assigned to the response may drop the call (patch/instance.ts): Node's throw is then not known.
    const verdict = flag(state, 'double-send', describeCall(name, args, includeValues(state)), wrapper, { nodeWouldThrow: assigned ? undefined : headersSent(self) });
    state.quiet++;
    step |= QUIET | (verdict === true ? CONTAIN : 0);
    state.bodyRecord = record(state, wrapper, name, code);
  } else {
    const claim = record(state, wrapper, name, code);
    const extra = claimed === undefined ? 0 : claimed(claim);
    if (extra === undefined) return PASS;
    step |= extra;
    state.claim = claim;
    state.bodyRecord = claim;
    if (state.timeline !== undefined) note(state, `${recordCall(claim)} claims the body${claimed === undefined ? '' : ' until it calls back'}`);
    if (state.tracing) traceEvent(state, 'body claimed', claim);
  }
  if (state.depth === 0) {
    enter(state, wrapper, name, status);
    step |= OUTER;
  }
  state.bodyDepth = 1;
  return step;
}

/** Sync body methods: the first one claims the response for good; a second one is a double send. */
export function bodyBefore(name: string, assigned = false): Before {
  return (state, self, wrapper, argc, first, second) => {
    // Inside another body call (json -> send, sendStatus -> send): part of that call.
    if (state.bodyDepth > 0) return PASS;
    return startBody(state, self, wrapper, name, assigned, name === 'sendStatus' ? first : undefined, argumentsOf(argc, first, second));
  };
}

/** After a sync body call: one that threw before sending anything (bad arguments, a JSON cycle) gives the response back. */
export const bodyAfter: After = (state, self, wrapper, step, threw) => {
  if (threw && state.claim !== undefined && state.claim === state.bodyRecord && !headersSent(self)) state.claim = undefined;
  finish(state, self, wrapper, step, threw);
};

/** Most arguments each async body method takes, callback included (Express 4 and 5 alike). */
const MAX_ARGUMENTS: Record<string, number> = { sendFile: 3, download: 4, render: 3 };

/**
 * The arguments of an async body call with a callback that releases its claim: the user's
 * callback wrapped, or, when there is none, one that does exactly what Express does without one.
 * Undefined when the arguments leave no room for a callback (the call then goes unclaimed).
 */
function withReleasingCallback(state: ResponseState, res: GuardedResponse, name: string, claim: SendRecord, args: IArguments): unknown[] | undefined {
  const list: unknown[] = Array.prototype.slice.call(args);
  for (let index = list.length - 1; index >= 0; index--) {
    const callback = list[index];
    if (typeof callback === 'function') {
      list[index] = function (this: unknown): unknown {
        release(state, claim);
        return (callback as AnyFunction).apply(this, arguments as unknown as unknown[]);
      };
      return list;
    }
  }
  while (list.length > 1 && list[list.length - 1] === undefined) list.pop();
  if (list.length >= (MAX_ARGUMENTS[name] ?? 0)) return undefined;
  if (name === 'render') {
    // Express's default: `if (err) return req.next(err); self.send(str)`; the send continues this claim.
    list.push(function (err: unknown, html: unknown): void {
      if (err) {
        release(state, claim);
        res.req?.next?.(err);
        return;
      }
      state.bodyDepth++;
      try {
        (res as unknown as { send(body: unknown): unknown }).send(html);
      } finally {
        state.bodyDepth--;
      }
    });
  } else {
    // Express's sendFile default: EISDIR goes to next(), write and abort errors are dropped, others to next(err).
    const next = res.req?.next;
    list.push(function (err: unknown): void {
      release(state, claim);
      if (next === undefined) return;
      const failure = err as { code?: unknown; syscall?: unknown } | undefined;
      if (failure && failure.code === 'EISDIR') {
        next();
        return;
      }
      if (failure && failure.code !== 'ECONNABORTED' && failure.syscall !== 'write') next(err);
    });
  }
  return list;
}

/** sendFile, download, render without a callback: they claim the response until they call back. */
export function asyncBodyBefore(name: string, assigned = false): BeforeWithArguments {
  return (state, self, wrapper, args) => {
    // Inside another body call (download -> sendFile), or render with the user's callback: not a claim.
    if (state.bodyDepth > 0) return PASS;
    if (name === 'render' && Array.prototype.some.call(args, (argument) => typeof argument === 'function')) return PASS;
    return startBody(state, self, wrapper, name, assigned, undefined, args, (claim) => {
      const list = withReleasingCallback(state, self, name, claim, args);
      if (list === undefined) return undefined;
      state.args = list;
      return ARGS;
    });
  };
}

/** After an async body call: one that threw synchronously gives its claim back. */
export const asyncBodyAfter: After = (state, self, wrapper, step, threw) => {
  const claim = state.claim;
  if (threw && claim !== undefined && claim === state.bodyRecord) release(state, claim);
  state.args = undefined;
  finish(state, self, wrapper, step, threw);
};
