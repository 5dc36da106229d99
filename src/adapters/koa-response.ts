/**
 * Koa's response setters, seen by the guard: `ctx.body =`, `ctx.status =`, `ctx.message =`, `ctx.type =`,
 * `ctx.set()`, `ctx.append()`, `ctx.remove()`, `ctx.redirect()` and the other header helpers.
 *
 * Koa keeps them on each app's own response prototype (`app.response`, an `Object.create()` of
 * Koa's module-level `response`), and `ctx.x` delegates to `ctx.response.x`. So each is shadowed
 * once per app by an own property of `app.response` that calls Koa's original with the same
 * receiver and argument and returns what it returns: Koa's getters stay Koa's own, its
 * `headerSent` checks still ignore a late setter, and nothing is added per request. Koa's module
 * and other apps in the process are left alone.
 *
 * A call is late when the headers are out (Koa's own test): it is reported (report/flag.ts) and
 * then runs on as Koa runs it, which ignores it (or, for `ctx.body =` after a raw `ctx.res.write()`,
 * lets Koa's respond() append it). Calls Koa makes itself (respond(), ctx.onerror()) are not
 * the app's and are not reported. The last `ctx.body =` (or `ctx.redirect()`, or `ctx.status =`
 * when no body is set) is recorded per request, so the core names it as the call that sent the
 * response instead of Koa's respond() (koa.ts promotes it once the middleware chain is done).
 */
import { includeValues, isStatusCode } from '../patch/response.js';
import { describeCall } from '../report/build.js';
import { captureStack } from '../report/callsite.js';
import { flag } from '../report/flag.js';
import { headersSent, note, record, statusSent, type AnyFunction, type GuardedResponse, type ResponseState, type SendRecord } from '../state.js';
import { kAnswer, kMixed, kPatched, kState } from '../symbols.js';
import type { ViolationKind } from '../types.js';


/** What the guard reads of Koa's response object (`ctx.response`). */
export interface KoaResponseLike {
  res: GuardedResponse;
  body?: unknown;
  [kAnswer]?: SendRecord;
  [kMixed]?: boolean;
}

/** How a guarded Koa member is reported when late, and whether it sets the answer. */
interface Member {
  /** `ctx.<name>`, as users write it. */
  name: string;
  setter: boolean;
  kind: ViolationKind;
  /** Records the answer: `body` (always the answer), `status` (only while nothing else is). */
  answer?: 'body' | 'status';
}

/** Koa's setters and header helpers that the guard watches. */
const MEMBERS: readonly Member[] = [
  { name: 'body', setter: true, kind: 'double-send', answer: 'body' },
  { name: 'status', setter: true, kind: 'late-status', answer: 'status' },
  { name: 'type', setter: true, kind: 'late-header' },
  // The status line's message: Koa sets it on the response without checking the headers.
  { name: 'message', setter: true, kind: 'late-header' },
  { name: 'length', setter: true, kind: 'late-header' },
  { name: 'lastModified', setter: true, kind: 'late-header' },
  { name: 'etag', setter: true, kind: 'late-header' },
  { name: 'redirect', setter: false, kind: 'double-send', answer: 'body' },
  { name: 'set', setter: false, kind: 'late-header' },
  { name: 'append', setter: false, kind: 'late-header' },
  { name: 'remove', setter: false, kind: 'late-header' },
  { name: 'vary', setter: false, kind: 'late-header' },
  { name: 'attachment', setter: false, kind: 'late-header' },
];

/**
 * Whether a guarded Koa call is running: the calls it makes (`ctx.body =` sets the status and
 * type, `ctx.redirect()` sets a header and the body) are its own. Koa's setters are synchronous,
 * so one counter for the process is exact.
 */
let depth = 0;

/** Koa's own files: a late call from respond() or ctx.onerror() is Koa finishing, not the app. */
const KOA_FRAME = /[\\/]koa[\\/]lib[\\/](?:application|context)\.js:\d+/;

/** Whether the caller of `wrapper` (past the `ctx.x` delegate) is Koa itself. Read on the late path only. */
function calledByKoa(wrapper: AnyFunction): boolean {
  const stack = captureStack(wrapper, 2).stack;
  if (typeof stack !== 'string') return false;
  const lines = stack.split('\n');
  return KOA_FRAME.test(lines[1] ?? '') || (/[\\/]delegates[\\/]/.test(lines[1] ?? '') && KOA_FRAME.test(lines[2] ?? ''));
}

/** `ctx.status = 200` and the like, built once per code: an answer's record is made on every response. */
const STATUS_TEXTS: string[] = [];

/** How the call is shown: `ctx.status = 500`, `ctx.set('x-id')`, `ctx.body =`; values only on request. */
function callText(member: Member, value: unknown, withValues: boolean): string {
  if (member.name === 'status') return isStatusCode(value) ? (STATUS_TEXTS[value] ??= `ctx.status = ${value}`) : 'ctx.status =';
  if (member.setter) return `ctx.${member.name} =`;
  if (member.name === 'redirect' || member.name === 'attachment' || member.name === 'vary') return `ctx.${member.name}()`;
  // set/append/remove: the header's name, as the core shows res.set('name'); values only on request.
  if (typeof value === 'string') return `ctx.${member.name}('${value.length > 60 ? `${value.slice(0, 60)}…` : value}')`;
  if (value !== null && typeof value === 'object') return withValues ? describeCall(member.name, [value], true).replace(/^res\./, 'ctx.') : `ctx.${member.name}({…})`;
  return `ctx.${member.name}()`;
}

/** A late call: report it unless Koa made it; true when it was reported (the original then runs quietly). */
function reportLate(state: ResponseState, self: KoaResponseLike, member: Member, wrapper: AnyFunction, value: unknown): boolean {
  if (member.name === 'status' && (!isStatusCode(value) || value === statusSent(state))) return false;
  if (calledByKoa(wrapper)) return false;
  const call = callText(member, value, includeValues(state));
  if (member.kind === 'late-status') {
    flag(state, 'late-status', call, wrapper, { requestedStatus: value });
  } else if (member.kind === 'double-send') {
    const notes = self.res.writableEnded
      ? ['  Koa ignores it: the response already ended.']
      : ['  the response was flushed by a raw ctx.res call and has not ended: Koa\'s respond() appends this body to it, so the client gets both.'];
    if (!self.res.writableEnded) self[kMixed] = true;
    flag(state, 'double-send', call, wrapper, { notes });
  } else {
    flag(state, 'late-header', call, wrapper, { notes: ['  Koa ignores it: the headers already went out.'] });
  }
  return true;
}

/**
 * Record the call that sets the answer (kept on Koa's response object until the chain is done).
 * Its time is left for koa.ts to set when the chain is done, which is when Koa's respond() sends
 * it: one clock read per response instead of one per setter call.
 */
function noteAnswer(state: ResponseState, self: KoaResponseLike, member: Member, wrapper: AnyFunction, value: unknown): void {
  if (member.answer === 'status' && self[kAnswer] !== undefined) return;
  const method = member.name === 'status' ? callText(member, value, false) : member.name === 'redirect' ? 'ctx.redirect()' : 'ctx.body =';
  self[kAnswer] = record(state, wrapper, method, member.name === 'status' && typeof value === 'number' ? value : undefined, 0);
  if (state.timeline !== undefined) note(state, method);
}

/**
 * Before Koa's original runs: the late check, or the answer's record. Only for the outermost
 * guarded call of a guarded response; true when the call was reported as late (the original
 * then runs quietly).
 */
function before(state: ResponseState, self: KoaResponseLike, member: Member, wrapper: AnyFunction, value: unknown): boolean {
  if (headersSent(self.res)) return state.quiet === 0 && state.bodyDepth === 0 && reportLate(state, self, member, wrapper, value);
  if (member.answer !== undefined) noteAnswer(state, self, member, wrapper, value);
  return false;
}

/**
 * The wrapper of one setter: Koa's original with the same receiver and value. Setters are
 * wrapped apart from methods so that the hot path (Koa's own setters call each other several
 * times per response) passes one value, not an arguments object.
 */
function wrapSetter(member: Member, original: AnyFunction): AnyFunction {
  const wrapper = function (this: KoaResponseLike, value: unknown): unknown {
    const res = this.res;
    const state = depth > 0 || res === undefined || res === null ? undefined : res[kState];
    if (state === undefined) return original.call(this, value);
    const quiet = before(state, this, member, wrapper, value);
    depth++;
    if (quiet) state.quiet++;
    try {
      return original.call(this, value);
    } finally {
      depth--;
      if (quiet) state.quiet--;
    }
  };
  return named(wrapper, original);
}

/** The wrapper of one method: Koa's original with the same receiver and arguments, and its result. */
function wrapMethod(member: Member, original: AnyFunction): AnyFunction {
  const wrapper = function (this: KoaResponseLike, value: unknown): unknown {
    const res = this.res;
    const state = depth > 0 || res === undefined || res === null ? undefined : res[kState];
    if (state === undefined) return original.apply(this, arguments as unknown as unknown[]);
    const quiet = before(state, this, member, wrapper, value);
    depth++;
    if (quiet) state.quiet++;
    try {
      return original.apply(this, arguments as unknown as unknown[]);
    } finally {
      depth--;
      if (quiet) state.quiet--;
    }
  };
  return named(wrapper, original);
}

/** Give a wrapper its original's name and length, as Koa's members show them. */
function named(wrapper: AnyFunction, original: AnyFunction): AnyFunction {
  Object.defineProperty(wrapper, 'name', { value: original.name });
  Object.defineProperty(wrapper, 'length', { value: original.length });
  return wrapper;
}

/** The property named `name` where `proto`'s chain defines it (Koa's module-level response). */
function findDescriptor(proto: object, name: string): PropertyDescriptor | undefined {
  for (let object: object | null = proto; object !== null; object = Object.getPrototypeOf(object) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(object, name);
    if (descriptor !== undefined) return descriptor;
  }
  return undefined;
}

/**
 * Shadow Koa's setters and header helpers on one app's response prototype, once. A member this
 * Koa does not have, or that the app made read-only, is left as it is.
 */
export function patchKoaResponse(proto: object): void {
  if (Object.prototype.hasOwnProperty.call(proto, kPatched)) return;
  Object.defineProperty(proto, kPatched, { value: true });
  for (const member of MEMBERS) {
    const descriptor = findDescriptor(proto, member.name);
    if (descriptor === undefined || descriptor.configurable === false && Object.prototype.hasOwnProperty.call(proto, member.name)) continue;
    if (member.setter) {
      if (typeof descriptor.set !== 'function') continue;
      Object.defineProperty(proto, member.name, { get: descriptor.get, set: wrapSetter(member, descriptor.set as AnyFunction), enumerable: descriptor.enumerable === true, configurable: true });
    } else {
      if (typeof descriptor.value !== 'function') continue;
      Object.defineProperty(proto, member.name, { value: wrapMethod(member, descriptor.value as AnyFunction), writable: true, enumerable: descriptor.enumerable === true, configurable: true });
    }
  }
}
