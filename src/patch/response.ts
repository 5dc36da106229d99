/**
 * The roles of the response methods that change status and headers or write: what each checks
 * before the original runs and records after (patch/wrapper.ts runs them). Body methods (send,
 * json, sendFile, ...) have their own file, patch/body.ts.
 *
 * Every role follows one rule: a late call is reported (report/flag.ts) and then runs on as it
 * would without the guard, so Node and Express do what they always do (throw mode throws from
 * the report instead; contain catches what Node throws for it, patch/contain.ts).
 */
import { describeCall } from '../report/build.js';
import { flag } from '../report/flag.js';
import {
  enter, guardsOf, headersSent, note, noteFlush, outermost, record, statusSent, traceEvent, writableEnded,
  type AnyFunction, type GuardedResponse, type ResponseState,
} from '../state.js';
import { progress } from '../watch/hang.js';
import { lintBody, lintHeaders, lintLength } from '../watch/lint.js';
import { setBefore, trackHeader } from '../watch/origins.js';
import type { HeaderGuardError } from '../errors.js';
import { absorbWriteAfterEnd } from './contain.js';
import { BODY, CONTAIN, OUTER, PASS, QUIET, RUN, type After, type Before } from './wrapper.js';

/** Whether reports may show argument values: only when every guard on the response asks for them. */
export function includeValues(state: ResponseState): boolean {
  if (!state.guard.options.includeValues) return false;
  return state.more === undefined || guardsOf(state).every((guard) => guard.options.includeValues);
}

/** The first two arguments as describeCall reads them. */
export function argumentsOf(argc: number, first: unknown, second: unknown): unknown[] {
  return argc === 0 ? [] : argc === 1 ? [first] : [first, second];
}

/** A plausible status code; anything else goes to Node/Express unchanged so their own validation speaks. */
export function isStatusCode(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 999;
}

/**
 * A reported late call runs on: quiet (the calls it makes are its own), contained when a guard
 * contains, and outermost when nothing else is running.
 */
export function runLate(state: ResponseState, wrapper: AnyFunction, name: string, status: unknown, verdict: boolean | HeaderGuardError): number {
  state.quiet++;
  let step = RUN | QUIET | (verdict === true ? CONTAIN : 0);
  if (state.depth === 0) {
    enter(state, wrapper, name, status);
    step |= OUTER;
  }
  return step;
}

/** An ordinary call: outermost when nothing else runs (it is then the call reports name). */
function runOrdinary(state: ResponseState, wrapper: AnyFunction, name: string, status: unknown, nested: number): number {
  if (state.depth > 0) return nested;
  enter(state, wrapper, name, status);
  return RUN | OUTER;
}

/** Undo what `before` started (the common part of every `after`). */
export const finish: After = (state, _self, _wrapper, step, threw) => {
  if ((step & QUIET) !== 0) {
    state.quiet--;
    // Node's error for a reported call, as it would throw it: not reported again when it reaches the router.
    if (threw) state.lateThrew = true;
  }
  if ((step & BODY) !== 0) {
    state.bodyDepth = 0;
    state.bodyRecord = undefined;
  }
  if ((step & OUTER) !== 0) state.depth = 0;
};

/** Node's own header methods, which every Express header method ends in. */
const NODE_HEADER_METHODS = new Set(['setHeader', 'appendHeader', 'removeHeader']);

/** Header setters and `format`: late once the headers are out (Node throws ERR_HTTP_HEADERS_SENT for all of them). */
export function headerBefore(name: string, assigned = false): Before {
  // Every header change ends in one of Node's three methods: the timeline and the origins note
  // those, where the prototype's method runs (a function assigned over it may never call it).
  const nodeMethod = !assigned && NODE_HEADER_METHODS.has(name);
  // A function assigned to the response may drop the call or pass it to Node (patch/instance.ts).
  const nodeWouldThrow = assigned ? undefined : true;
  return (state, self, wrapper, argc, first, second) => {
    if (state.bodyDepth === 0 && state.quiet === 0 && headersSent(self)) {
      const call = describeCall(name, argumentsOf(argc, first, second), includeValues(state));
      return runLate(state, wrapper, name, undefined, flag(state, 'late-header', call, wrapper, { nodeWouldThrow, notes: setBefore(state, first) }));
    }
    if (nodeMethod) {
      if (state.timeline !== undefined) note(state, describeCall(name, argumentsOf(argc, first, second), includeValues(state)));
      if (state.headers !== undefined) trackHeader(state, wrapper, name, first);
    }
    return runOrdinary(state, wrapper, name, undefined, PASS);
  };
}

/** `res.status(code)`: late when the headers are out and the code differs from the one sent. */
export function statusBefore(name: string): Before {
  return (state, self, wrapper, _argc, code) => {
    if (state.bodyDepth === 0 && state.quiet === 0 && headersSent(self) && isStatusCode(code) && code !== statusSent(state)) {
      return runLate(state, wrapper, name, code, flag(state, 'late-status', describeCall(name, [code]), wrapper, { requestedStatus: code }));
    }
    return runOrdinary(state, wrapper, name, code, PASS);
  };
}

/** `writeHead`: late once the headers are out; otherwise it is where the headers get flushed. */
export function writeHeadBefore(name: string, assigned = false): Before {
  const nodeWouldThrow = assigned ? undefined : true;
  return (state, self, wrapper, argc, first, second) => {
    if (headersSent(self)) {
      if (state.quiet > 0) return PASS;
      const call = describeCall(name, argumentsOf(argc, first, second), includeValues(state));
      return runLate(state, wrapper, name, first, flag(state, 'late-header', call, wrapper, { nodeWouldThrow }));
    }
    return runOrdinary(state, wrapper, name, first, RUN);
  };
}

/** After `writeHead`: note the flush (where the headers went out), progress and lint. */
export const writeHeadAfter: After = (state, self, wrapper, step, threw) => {
  if ((step & QUIET) === 0 && !threw) {
    if (state.sent === undefined) noteFlush(state, wrapper);
    if (state.watched) progress(state, wrapper, 'writeHead');
    if (state.guard.options.lint) lintHeaders(state);
  }
  finish(state, self, wrapper, step, threw);
};

/** A write after the end: reported; under contain, Node's 'error' event for it is absorbed. */
function writeAfterEnd(state: ResponseState, self: GuardedResponse, wrapper: AnyFunction, name: string, call: string): number {
  const verdict = flag(state, 'write-after-end', call, wrapper);
  if (verdict === true) absorbWriteAfterEnd(self);
  return runLate(state, wrapper, name, undefined, verdict);
}

/** `write`: data after the end is lost (Node emits an async ERR_STREAM_WRITE_AFTER_END). */
export function writeBefore(name: string, assigned = false): Before {
  // Lint counts the bytes Node's own write gets: a function assigned over it (compression) may change them.
  const lints = !assigned;
  return (state, self, wrapper, _argc, chunk, encoding) => {
    if (writableEnded(self)) return state.quiet > 0 ? PASS : writeAfterEnd(state, self, wrapper, name, 'res.write()');
    if (lints && state.guard.options.lint) lintBody(state, wrapper, 'res.write()', chunk, encoding);
    return runOrdinary(state, wrapper, name, undefined, state.watched || state.subject !== undefined ? RUN : PASS);
  };
}

/** An outgoing request has no writeHead: its headers go out with its first write or its end. */
function noteOutgoingFlush(state: ResponseState, wrapper: AnyFunction, step: number, threw: boolean): void {
  if (state.subject !== undefined && state.sent === undefined && (step & QUIET) === 0 && !threw) noteFlush(state, wrapper);
}

/** After `write`: progress for the hang watch. */
export const writeAfter: After = (state, self, wrapper, step, threw) => {
  noteOutgoingFlush(state, wrapper, step, threw);
  if ((step & QUIET) === 0 && !threw && state.watched) progress(state, wrapper, 'write');
  finish(state, self, wrapper, step, threw);
};

/** `end`: with data after the end it is a write after end; a bare second `end()` is harmless, as in Node. */
export function endBefore(name: string, assigned = false): Before {
  const lints = !assigned;
  return (state, self, wrapper, _argc, chunk, encoding) => {
    if (writableEnded(self)) {
      // Node's own test: `if (chunk)` -- an empty string or a callback is no data.
      if (chunk && typeof chunk !== 'function' && state.quiet === 0) return writeAfterEnd(state, self, wrapper, name, 'res.end(data)');
      return PASS;
    }
    if (lints && state.guard.options.lint && typeof chunk !== 'function') lintBody(state, wrapper, 'res.end(data)', chunk, encoding);
    return runOrdinary(state, wrapper, name, undefined, RUN);
  };
}

/** After `end`: where the response ended (the call that sent it, when one call did both), lint, hang watch. */
export const endAfter: After = (state, self, wrapper, step, threw) => {
  noteOutgoingFlush(state, wrapper, step, threw);
  if ((step & QUIET) === 0 && state.ended === undefined && writableEnded(self)) {
    const skip = outermost(state, wrapper);
    const sent = state.sent;
    state.ended = state.bodyRecord ?? state.claim ?? (sent !== undefined && sent.serial === state.serial ? sent : record(state, skip, 'end'));
    if (state.timeline !== undefined) note(state, 'ended');
    if (state.tracing) traceEvent(state, 'ended', state.ended);
    if (state.guard.options.lint) lintLength(state, skip);
    state.watch?.unwatch(state);
  }
  finish(state, self, wrapper, step, threw);
};
