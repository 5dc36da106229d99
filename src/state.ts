/**
 * The state machine of one response: what the guard knows about it (who claimed the body, where
 * the headers went out, where it ended, its status code) and the small, I/O-free transitions
 * and questions the wrappers ask of it. One ResponseState per guarded response, created by
 * attach.ts, read and changed by the wrappers in patch/.
 *
 * The life of a response, as the guard sees it:
 *
 *   open ──body call──▶ claimed ──flush──▶ sent ──end──▶ ended
 *     └──────────────── flush (writeHead, write, end) ──▶ sent
 *
 * A call that changes status, headers or body once the response is `sent` (or a second body call
 * once it is `claimed`) is late: the wrappers report it (report/flag.ts) and then let it run as it
 * would without the guard, unless the guard's mode says otherwise (throw, contain).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import createDebug from 'debug';
import type { Guard } from './guard.js';
import type { HangWatch } from './watch/hang.js';
import { captureStack, formatSite, holderFrames, type StackHolder } from './report/callsite.js';
import { describeCall, type EarlierEvent } from './report/build.js';
import { kState } from './symbols.js';
import type { HeaderOrigin, ViolationKind } from './types.js';

/** `DEBUG=header-guard` traces (read once per response: debug's `enabled` getter is not free). */
export const trace = createDebug('header-guard');

/** Whether an object has a property of its own (not through its prototype chain). */
export const hasOwn = (object: object, key: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(object, key);

/** Milliseconds, monotonic. */
export const now = (): number => performance.now();

/** Events a timeline keeps per response; later ones are counted, not kept. */
const MAX_TIMELINE = 40;

// Internal: wrappers are called with any receiver and arguments; none of this reaches the public types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (this: any, ...args: any[]) => unknown;

/** A response the guard may watch: its state lives under a private symbol. */
export type GuardedResponse = ServerResponse & { [kState]?: ResponseState; req?: IncomingMessage & { next?: AnyFunction } };

/**
 * One event of a response's life: which method (with its status code argument, if any), its
 * captured stack when capture is on, when. Kept small: one per body call or flush.
 */
export interface SendRecord {
  method: string;
  /** The status code passed to writeHead/status/sendStatus; no other argument is kept. */
  status: number | undefined;
  stack: StackHolder | undefined;
  at: number;
  /** Which outermost call it happened in, so an end inside the call that flushed reuses its record. */
  serial: number;
}

/** How a record's call is shown: `res.json()`, `res.writeHead(200)`. */
export function recordCall(sendRecord: SendRecord): string {
  return describeCall(sendRecord.method, sendRecord.status === undefined ? [] : [sendRecord.status]);
}

/** A described call as this message's reports show it: `res.setHeader('x')` on an outgoing request is `proxyReq.setHeader('x')`. */
export function callOn(state: ResponseState, call: string): string {
  const subject = state.subject;
  return subject === undefined || !call.startsWith('res.') ? call : `${subject.receiver}.${call.slice(4)}`;
}

/**
 * What became of an error of throw mode that a framework caught: `passed` on (through Express's
 * next(), or into Fastify, which drops it), `handled` by an app's own error handler (arity 4)
 * that did not pass it on, or `surfaced` by the guard (report/surface.ts).
 */
export interface Pending {
  error: Error;
  fate: 'passed' | 'handled' | 'surfaced';
}

/**
 * What a guarded message is when it is not a server response (an outgoing ClientRequest,
 * attach.ts): how its calls are named (`proxyReq.setHeader('x-id')`), what its headers are
 * called in sentences, and the request line its reports print instead of the incoming request's.
 */
export interface Subject {
  /** The name calls are shown on: `proxyReq`, `request`. */
  receiver: string;
  /** "the request's headers", in sentences. */
  headers: string;
  /** The report's last line: `outgoing request: GET http://127.0.0.1:4000/api/x` (no query string). */
  requestLine: string;
}

/**
 * More lines for a response's reports, computed only when a report is built (an adapter's
 * "handled by OrdersController.findOne (src/orders.controller.ts:21)"). Never throws into the
 * guard: a failing annotation is left out.
 */
export type Annotation = (report: { kind: ViolationKind; lateCallHasUserFrame: boolean }) => string | readonly string[] | undefined;

/** Per-response state (internal). */
export class ResponseState {
  /** 1 while an outermost guarded call runs (nested calls do not count), else 0. */
  depth = 0;
  /** 1 while a body method (send, json, ...) runs: the calls it makes are its own. */
  bodyDepth = 0;
  /** More than 0 while a reported late call runs on: the calls it makes are its own, not new reports. */
  quiet = 0;
  /** Counts outermost calls. */
  serial = 0;
  /** The outermost guarded method on the stack, to capture the stack from its caller on. */
  outerFn: AnyFunction | undefined = undefined;
  outerName = '';
  /** The status code argument of the outermost call, if it took one. */
  outerStatus: number | undefined = undefined;
  /** The body call running now (a claim, or a late body call let through): a flush inside it is its own. */
  bodyRecord: SendRecord | undefined = undefined;
  /** The body call that owns the response (sync ones keep it; async ones until they call back). */
  claim: SendRecord | undefined = undefined;
  /** The arguments an async body call runs with (its callback wrapped); read by the wrapper at once. */
  args: unknown[] | undefined = undefined;
  /** Where the headers were flushed. */
  sent: SendRecord | undefined = undefined;
  /** The status code that went out with the headers. */
  sentStatus: unknown = undefined;
  /** Where the response was ended. */
  ended: SendRecord | undefined = undefined;
  /** The value behind the `statusCode` accessor (patch/status-code.ts). */
  statusCode: unknown;
  /** next-after-send is reported once per response: one next() call passes through several routers. */
  nextReported = false;
  /** A reported late call threw (Node's ERR_HTTP_HEADERS_SENT): that error is reported already. */
  lateThrew = false;
  /** Errors already reported as error-after-send, as they travel through routers and error handlers. */
  reportedErrors: unknown[] | undefined = undefined;
  /** Errors travelling through Express's next() that throw mode tracks, keyed by the travelling error. */
  pending: Map<unknown, Pending> | undefined = undefined;
  /** The response's events with their times, kept in throw mode and under DEBUG=header-guard. */
  timeline: Array<{ at: number; text: string }> | undefined;
  /** When the timeline started (the guard started watching, or a guard of throw mode joined): its zero. */
  startedAt: number;
  /** Who changed each header, in order (trackHeaders, lint). */
  headers: Map<string, HeaderOrigin[]> | undefined;
  /** DEBUG=header-guard was on when the response started. */
  readonly tracing: boolean;
  /** Body bytes written so far (lint). */
  bytesWritten = 0;
  /** Lint kinds already reported for this response: each is reported once. */
  linted: ViolationKind[] | undefined = undefined;
  /** The last flush or write, and when (hang detection). */
  lastProgress: SendRecord | undefined = undefined;
  lastProgressAt = 0;
  /** Whether a hang watch holds this response, which one, and its neighbours in the watch's list. */
  watched = false;
  watch: HangWatch | undefined = undefined;
  watchPrevious: ResponseState | undefined = undefined;
  watchNext: ResponseState | undefined = undefined;
  /** One-slot cache of the guarded version of the router's next. */
  rawNext: AnyFunction | undefined = undefined;
  guardedNext: AnyFunction | undefined = undefined;
  /** How many router Layers this response entered (patch/router.ts): a next() that entered none left routing pending. */
  layerEntries = 0;
  /** The last next() that returned with routing still pending and the response unanswered (its site when capture is on). */
  pendingNext: SendRecord | undefined = undefined;
  /** Guards that joined after the first one (several guards on one response, see attach.ts). */
  more: Guard[] | undefined = undefined;
  /** Set for a message that is not a server response (an outgoing request, attach.ts). */
  subject: Subject | undefined = undefined;
  /** Lines adapters add to this response's reports (annotate.ts). */
  annotations: Annotation[] | undefined = undefined;

  constructor(
    /** The first guard that saw the response: its hang watch and timeline settings apply. */
    readonly guard: Guard,
    readonly req: IncomingMessage,
    readonly res: GuardedResponse,
  ) {
    this.statusCode = res.statusCode;
    this.tracing = trace.enabled;
    this.timeline = guard.options.mode === 'throw' || this.tracing ? [] : undefined;
    // Only a timeline reads it; a clock read costs about 60 ns, on every response.
    this.startedAt = this.timeline === undefined ? 0 : now();
    this.headers = guard.options.trackHeaders ? new Map() : undefined;
  }
}

/** Every guard on the response, the first one first. */
export function guardsOf(state: ResponseState): readonly Guard[] {
  return state.more === undefined ? [state.guard] : [state.guard, ...state.more];
}

/** Add an event to the response's timeline, when it keeps one. */
export function note(state: ResponseState, text: string): void {
  const timeline = state.timeline;
  if (timeline === undefined) return;
  if (timeline.length < MAX_TIMELINE) timeline.push({ at: now() - state.startedAt, text });
  else if (timeline.length === MAX_TIMELINE) timeline.push({ at: now() - state.startedAt, text: '… (later events not kept)' });
}

/** Whether this response's earlier events get their call sites captured (any guard's capture option). */
export function capturing(state: ResponseState): boolean {
  if (state.tracing || state.guard.captures(state.req)) return true;
  const more = state.more;
  if (more === undefined) return false;
  for (const guard of more) if (guard.captures(state.req)) return true;
  return false;
}

/** Record a call, capturing its stack when capture is on; `skip` is the outermost guarded function, whose caller starts the stack. */
export function record(state: ResponseState, skip: AnyFunction, method: string, status?: number, at: number = now()): SendRecord {
  return { method, status, stack: capturing(state) ? captureStack(skip, state.guard.recordLimit) : undefined, at, serial: state.serial };
}

/** The record as a report of `guard` shows it. */
export function earlier(state: ResponseState, guard: Guard, sendRecord: SendRecord | undefined): EarlierEvent | undefined {
  if (sendRecord === undefined) return undefined;
  const event: EarlierEvent = { call: callOn(state, recordCall(sendRecord)), frames: holderFrames(sendRecord.stack, guard.frames), at: sendRecord.at };
  if (sendRecord.stack === undefined) {
    event.notCaptured = guard.options.capture === 'adaptive'
      ? 'not captured: capture is adaptive, and the next report on this route names it'
      : 'not captured: capture is off';
  }
  return event;
}

/**
 * Node's fields behind `res.headersSent` and `res.writableEnded` (its getters return
 * `!!this._header` and `this.finished`). Read directly because Node's own code reads these fields
 * on every response, so V8 finds them in its lookup cache; a getter on OutgoingMessage.prototype
 * is looked up afresh on each response, whose hidden class Express made unique (about 0.5 µs a
 * name per response). A response without the field (HTTP/2's compatibility response) uses the getter.
 */
type NodeFields = { _header?: unknown; finished?: unknown };

/** `res.headersSent`, read cheaply (see NodeFields). */
export function headersSent(res: ServerResponse): boolean {
  const header = (res as NodeFields)._header;
  return header === undefined ? res.headersSent : !!header;
}

/** `res.writableEnded`, read cheaply (see NodeFields). */
export function writableEnded(res: ServerResponse): boolean {
  const finished = (res as NodeFields).finished;
  return typeof finished === 'boolean' ? finished : res.writableEnded;
}

/** Whether the response has been answered: a body call owns it, or its headers went out. */
export function answered(state: ResponseState): boolean {
  return state.claim !== undefined || headersSent(state.res);
}

/** The status code the client got (or gets): the one sent with the headers. */
export function statusSent(state: ResponseState): unknown {
  return state.sentStatus === undefined ? state.statusCode : state.sentStatus;
}

/**
 * An outermost guarded call starts: remember it (its caller is where a stack capture starts, and
 * it is the call reports name). The wrapper sets `depth` back to 0 when the call returns.
 */
export function enter(state: ResponseState, fn: AnyFunction, name: string, status: unknown): void {
  state.outerFn = fn;
  state.outerName = name;
  state.outerStatus = typeof status === 'number' ? status : undefined;
  state.serial++;
  state.depth = 1;
}

/** The function above which a stack capture starts: the outermost guarded call, or `fn` itself. */
export function outermost(state: ResponseState, fn: AnyFunction): AnyFunction {
  return state.depth === 0 || state.outerFn === undefined ? fn : state.outerFn;
}

/** Debug trace of a transition with its site (formats the stack, so only when DEBUG=header-guard). */
export function traceEvent(state: ResponseState, what: string, sendRecord: SendRecord): void {
  const site = holderFrames(sendRecord.stack, { max: 1, ignore: state.guard.options.ignore })[0];
  const url = state.req.url;
  trace('%s %s: %s by %s%s', state.req.method, typeof url === 'string' ? url.split('?')[0] : '(no url)', what, recordCall(sendRecord), site ? ` at ${formatSite(site)}` : '');
}

/** Record the first flush of the headers: by the body call running now, the claim, or the outermost call. */
export function noteFlush(state: ResponseState, fn: AnyFunction): void {
  if (state.sent !== undefined || !headersSent(state.res)) return;
  if (state.bodyRecord !== undefined) state.sent = state.bodyRecord;
  else if (state.claim !== undefined) state.sent = state.claim;
  else if (state.depth === 0) state.sent = record(state, fn, 'writeHead', typeof state.statusCode === 'number' ? state.statusCode : undefined);
  else state.sent = record(state, outermost(state, fn), state.outerName, state.outerStatus);
  state.sentStatus = state.statusCode;
  if (state.timeline !== undefined) note(state, `headers sent (status ${String(state.statusCode)}) by ${recordCall(state.sent)}`);
  if (state.tracing) traceEvent(state, 'headers sent', state.sent);
}

/** What a body call in progress set aside while the router's next() ran inside it (handOver, takeBack). */
export interface HandedOver {
  depth: number;
  bodyDepth: number;
  bodyRecord: SendRecord;
  outerFn: AnyFunction | undefined;
  outerName: string;
  outerStatus: number | undefined;
}

/**
 * A body call that has flushed nothing calls the router's next() (a response hook: `res.json`
 * replaced on the response by middleware that calls `next(err)` for a body it rejects). That body
 * call has not answered: it handed the response to the router. Its claim is dropped, and the
 * calls the router's handlers make from here on are their own outermost calls (an error handler's
 * answer is then the first send, with its own site). Undefined when no such body call runs: a
 * reported late body call (quiet) or one whose headers went out keeps everything as it is.
 */
export function handOver(state: ResponseState): HandedOver | undefined {
  const bodyRecord = state.bodyRecord;
  if (bodyRecord === undefined || state.bodyDepth === 0 || state.quiet > 0 || headersSent(state.res)) return undefined;
  if (state.claim !== undefined && state.claim !== bodyRecord) return undefined;
  const handed: HandedOver = { depth: state.depth, bodyDepth: state.bodyDepth, bodyRecord, outerFn: state.outerFn, outerName: state.outerName, outerStatus: state.outerStatus };
  state.claim = undefined;
  state.bodyRecord = undefined;
  state.bodyDepth = 0;
  state.depth = 0;
  if (state.timeline !== undefined) note(state, `${recordCall(bodyRecord)} passed the response to next() before sending anything`);
  if (state.tracing) traceEvent(state, 'handed to next() unsent', bodyRecord);
  return handed;
}

/** The router's next() returned into the body call that handed the response over: that call runs on as before (its claim stays dropped). */
export function takeBack(state: ResponseState, handed: HandedOver): void {
  state.depth = handed.depth;
  state.bodyDepth = handed.bodyDepth;
  state.bodyRecord = handed.bodyRecord;
  state.outerFn = handed.outerFn;
  state.outerName = handed.outerName;
  state.outerStatus = handed.outerStatus;
}

/** Release an async body call's claim when it calls back (done, or failed before sending). */
export function release(state: ResponseState, claim: SendRecord): void {
  if (state.claim !== claim) return;
  state.claim = undefined;
  if (state.timeline !== undefined) note(state, `${recordCall(claim)} called back`);
  if (state.tracing) traceEvent(state, 'claim released', claim);
}
