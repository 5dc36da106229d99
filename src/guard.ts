import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import createDebug from 'debug';
import onFinished from 'on-finished';
import { subscribeForever } from './channels.js';
import { captureStack, formatSite, framesToShow, holderFrames, type FrameOptions, type StackHolder } from './callsite.js';
import { HeaderGuardError } from './errors.js';
import { buildViolation, describeCall, Reporter, requestFacts, type EarlierEvent, type ReportInput } from './report.js';
import { count } from './stats.js';
import type { CallSite, HeaderGuardMiddleware, HeaderGuardOptions, HeaderOrigin, ViolationKind } from './types.js';
import { REPORT_ONLY_KINDS, resolveOptions, type ResolvedOptions } from './validations.js';

const trace = createDebug('header-guard');

/** Milliseconds, monotonic. */
const now = (): number => performance.now();

/** The guard's state on a response; private to this copy of the library. */
const kState = Symbol('header-guard.state');
/** Marks prototypes, apps and Layer prototypes this copy has already patched. */
const kPatched = Symbol('header-guard.patched');

/**
 * Every violation is published here (public, documented): test helpers, telemetry and custom
 * reporters subscribe with `diagnostics_channel.subscribe('header-guard:violation', fn)` and
 * receive `{ violation, req, res }`.
 */
const violationChannel = diagnosticsChannel.channel('header-guard:violation');

/**
 * What became of an error of throw mode that Express caught: `passed` on through next(),
 * `handled` by an app's own error handler (arity 4) that did not pass it on, or `surfaced` by
 * the guard. One still `passed` when the response is over was swallowed by Express's final
 * handler (which only closes the connection): the guard rethrows it so a strict test run fails.
 */
interface Pending {
  /** The HeaderGuardError to rethrow. */
  error: HeaderGuardError;
  fate: 'passed' | 'handled' | 'surfaced';
}

/**
 * Frames captured for the offending call, from the caller of the outermost response method on:
 * the user's call and its callers (the `frames` option), plus a few for library frames in
 * between. The earlier events of every response (first send, end) take only `frames`: they are
 * captured on every request in development, where one capture costs 2-4 µs in a real server
 * (more per frame), while the offending call is captured only when something is wrong.
 */
const EXTRA_FRAMES = 3;
/** Events a timeline keeps per response; later ones are counted, not kept. */
const MAX_TIMELINE = 40;

// Internal: wrappers are called with any receiver and arguments; none of this reaches the public types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (this: any, ...args: any[]) => unknown;

/** A response the guard watches. */
type GuardedResponse = ServerResponse & { [kState]?: ResponseState; req?: IncomingMessage & { next?: AnyFunction } };

/** Most routes adaptive capture remembers as having had a violation; the oldest is forgotten first. */
const MAX_HOT_ROUTES = 1000;

/** One guard (one `headerGuard()` call, or the preload): its options and what it learns (internal). */
export class Guard {
  readonly reporter: Reporter;
  /** Routes that had a violation: adaptive capture records their sites from then on. */
  readonly hotRoutes = new Set<string>();
  /** Which frames reports show. */
  readonly frames: FrameOptions;
  /** How many frames the capture of an offending call takes. */
  readonly stackLimit: number;
  /** How many frames the capture of an earlier event (send, flush, end, write) takes. */
  readonly recordLimit: number;
  /** Hang detection, when hangTimeoutMs is on. */
  readonly hangWatch: HangWatch | undefined;

  constructor(readonly options: ResolvedOptions) {
    this.reporter = new Reporter(options);
    this.frames = { max: options.frames, ignore: options.ignore };
    this.stackLimit = options.frames + EXTRA_FRAMES;
    this.recordLimit = options.frames;
    this.hangWatch = options.hangTimeoutMs > 0 ? new HangWatch(options.hangTimeoutMs) : undefined;
  }

  /** Remember that a route had a violation (adaptive capture). */
  markHot(key: string): void {
    if (this.options.capture !== 'adaptive' || this.hotRoutes.has(key)) return;
    this.hotRoutes.add(key);
    if (this.hotRoutes.size > MAX_HOT_ROUTES) this.hotRoutes.delete(this.hotRoutes.values().next().value as string);
  }
}

/** The key adaptive capture remembers: method and matched route, or the path when none matched (as stats() counts them). */
function routeKey(req: IncomingMessage): string {
  const facts = requestFacts(req, false);
  return `${facts.method} ${facts.route ?? facts.path}`;
}

/**
 * One event of a response's life: which method (with its status code argument, if any), its
 * captured stack when capture is on, when. Kept small: one per body call or flush (internal).
 */
interface SendRecord {
  method: string;
  /** The status code passed to writeHead/status/sendStatus; no other argument is kept. */
  status: number | undefined;
  stack: StackHolder | undefined;
  at: number;
  /** Which outermost call it happened in, so an end inside the call that flushed reuses its record. */
  serial: number;
}

/** How a record's call is shown: `res.json()`, `res.writeHead(200)`. */
function recordCall(sendRecord: SendRecord): string {
  return describeCall(sendRecord.method, sendRecord.status === undefined ? [] : [sendRecord.status]);
}

/** Per-response state: the state machine of one response (internal). */
class ResponseState {
  /** 1 while an outermost guarded call runs (nested calls do not count), else 0. */
  depth = 0;
  /** 1 while a body method (send, json, ...) runs: the calls it makes are its own. */
  bodyDepth = 0;
  /** Counts outermost calls. */
  serial = 0;
  /** The outermost guarded method on the stack, to capture the stack from its caller on. */
  outerFn: AnyFunction | undefined = undefined;
  outerName = '';
  /** The status code argument of the outermost call, if it took one. */
  outerStatus: number | undefined = undefined;
  /** The body call that owns the response (sync ones keep it; async ones until they call back). */
  claim: SendRecord | undefined = undefined;
  /** Where the headers were flushed. */
  sent: SendRecord | undefined = undefined;
  /** Where the response was ended. */
  ended: SendRecord | undefined = undefined;
  /** The value behind our `statusCode` accessor. */
  statusCode: unknown;
  /** next-after-send is reported once per response: one next() call passes through several routers. */
  nextReported = false;
  /** Errors already reported as error-after-send, as they travel through routers and error handlers. */
  reportedErrors: unknown[] | undefined = undefined;
  /** Errors travelling through Express's next() that throw mode tracks, keyed by the travelling error. */
  pending: Map<unknown, Pending> | undefined = undefined;
  /** The response's events with their times, kept in throw mode and under DEBUG=header-guard (for reports). */
  timeline: Array<{ at: number; text: string }> | undefined;
  /** When the guard started watching, the zero of the timeline. */
  readonly startedAt: number;
  /** Who changed each header, in order (trackHeaders, lint). */
  headers: Map<string, HeaderOrigin[]> | undefined;
  /** DEBUG=header-guard was on when the response started: read once, since debug's getter is not free. */
  readonly tracing: boolean;
  /** Body bytes written so far (lint). */
  bytesWritten = 0;
  /** Lint kinds already reported for this response: each is reported once. */
  linted: ViolationKind[] | undefined = undefined;
  /** The last flush or write, and when (hang detection). */
  lastProgress: SendRecord | undefined = undefined;
  lastProgressAt = 0;
  /** Whether the hang watch holds this response, and its neighbours in the watch's list. */
  watched = false;
  watchPrevious: ResponseState | undefined = undefined;
  watchNext: ResponseState | undefined = undefined;
  /** One-slot cache of the guarded version of the router's next. */
  rawNext: AnyFunction | undefined = undefined;
  guardedNext: AnyFunction | undefined = undefined;

  constructor(
    readonly guard: Guard,
    readonly req: IncomingMessage,
    readonly res: GuardedResponse,
  ) {
    this.statusCode = res.statusCode;
    this.startedAt = now();
    this.tracing = trace.enabled;
    this.timeline = guard.options.mode === 'throw' || this.tracing ? [] : undefined;
    this.headers = guard.options.trackHeaders ? new Map() : undefined;
  }
}

/** Add an event to the response's timeline, when it keeps one. */
function note(state: ResponseState, text: string): void {
  const timeline = state.timeline;
  if (timeline === undefined) return;
  if (timeline.length < MAX_TIMELINE) timeline.push({ at: now() - state.startedAt, text });
  else if (timeline.length === MAX_TIMELINE) timeline.push({ at: now() - state.startedAt, text: '… (later events not kept)' });
}

/** Whether this response's earlier events get their call sites captured (the capture option). */
function capturing(state: ResponseState): boolean {
  const guard = state.guard;
  switch (guard.options.capture) {
    case 'always':
      return true;
    case 'off':
      return state.tracing;
    case 'adaptive':
      return state.tracing || (guard.hotRoutes.size > 0 && guard.hotRoutes.has(routeKey(state.req)));
  }
}

/** Record a call, capturing its stack when capture is on; `skip` is the outermost guarded function, whose caller starts the stack. */
function record(state: ResponseState, skip: AnyFunction, method: string, status?: number): SendRecord {
  return { method, status, stack: capturing(state) ? captureStack(skip, state.guard.recordLimit) : undefined, at: now(), serial: state.serial };
}

/** The record as a report shows it. */
function earlier(state: ResponseState, sendRecord: SendRecord | undefined): EarlierEvent | undefined {
  if (sendRecord === undefined) return undefined;
  const event: EarlierEvent = { call: recordCall(sendRecord), frames: holderFrames(sendRecord.stack, state.guard.frames), at: sendRecord.at };
  if (sendRecord.stack === undefined) {
    event.notCaptured = state.guard.options.capture === 'adaptive'
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
function headersSent(res: ServerResponse): boolean {
  const header = (res as NodeFields)._header;
  return header === undefined ? res.headersSent : !!header;
}

/** `res.writableEnded`, read cheaply (see NodeFields). */
function writableEnded(res: ServerResponse): boolean {
  const finished = (res as NodeFields).finished;
  return typeof finished === 'boolean' ? finished : res.writableEnded;
}

/** Whether the response has been answered: a body call owns it, or its headers went out. */
function answered(state: ResponseState): boolean {
  return state.claim !== undefined || headersSent(state.res);
}

/** Debug trace of a transition with its site (formats the stack, so only when DEBUG=header-guard). */
function traceEvent(state: ResponseState, what: string, sendRecord: SendRecord): void {
  const site = holderFrames(sendRecord.stack, { max: 1, ignore: state.guard.options.ignore })[0];
  trace('%s %s: %s by %s%s', state.req.method, state.req.url?.split('?')[0], what, recordCall(sendRecord), site ? ` at ${formatSite(site)}` : '');
}

interface FlagDetails {
  nodeWouldThrow?: boolean;
  requestedStatus?: unknown;
  error?: unknown;
  /** Return the HeaderGuardError of throw mode instead of throwing it. */
  defer?: boolean;
  /** The frames to report instead of capturing the stack now (hang: where it last wrote). */
  offendingFrames?: CallSite[];
  headline?: string;
  offendingLabel?: string;
  notes?: string[];
}

/** Whether a violation of this kind throws: throw mode, unless the kind is in `logOnly` or only ever reported. */
function throws(options: ResolvedOptions, kind: ViolationKind): boolean {
  return options.mode === 'throw' && !options.logOnly.includes(kind) && !REPORT_ONLY_KINDS.includes(kind);
}

/**
 * Report a violation: capture the offending stack above `skip`, build the report, publish it,
 * hand it to onViolation or the logger, and where it throws, throw it (or return it, with
 * `defer`). Returns undefined when it does not throw.
 */
function flag(state: ResponseState, kind: ViolationKind, call: string, skip: AnyFunction | undefined, details: FlagDetails = {}): HeaderGuardError | undefined {
  let violation;
  const guard = state.guard;
  const thrown = throws(guard.options, kind);
  try {
    const at = now();
    const res = state.res;
    let offendingFrames = details.error instanceof Error ? framesToShow(safeStack(details.error), guard.frames, true) : [];
    const framesFromError = offendingFrames.length > 0;
    if (details.offendingFrames !== undefined) offendingFrames = details.offendingFrames;
    else if (!framesFromError && skip !== undefined) offendingFrames = holderFrames(captureStack(skip, guard.stackLimit), guard.frames);
    if (!REPORT_ONLY_KINDS.includes(kind)) note(state, `${call}  <- the late call`);
    const input: ReportInput = {
      kind,
      nodeWouldThrow: details.nodeWouldThrow === true,
      call,
      offendingFrames,
      framesFromError,
      stillSending: kind === 'double-send' && !headersSent(res),
      at,
      req: state.req,
      requestedStatus: details.requestedStatus,
      error: details.error,
      includeValues: guard.options.includeValues,
      codeFrame: guard.options.codeFrame,
    };
    if (state.timeline !== undefined) input.timeline = state.timeline;
    if (details.headline !== undefined) input.headline = details.headline;
    if (details.offendingLabel !== undefined) input.offendingLabel = details.offendingLabel;
    if (details.notes !== undefined) input.notes = details.notes;
    const firstRecord = state.sent ?? state.claim;
    const first = earlier(state, firstRecord);
    if (first !== undefined) input.firstSent = first;
    if (state.ended !== undefined && writableEnded(res)) input.ended = state.ended === firstRecord ? first : earlier(state, state.ended);
    if (headersSent(res) && typeof state.statusCode === 'number') input.statusCode = state.statusCode;
    violation = buildViolation(input);
    trace('violation %s: %s', kind, violation.message);
    guard.markHot(routeKey(state.req));
    count(violation);
    if (violationChannel.hasSubscribers) violationChannel.publish({ violation, req: state.req, res });
    guard.reporter.report(violation, state.req, res, thrown);
  } catch {
    // A failure while reporting must never break the response (log mode's promise).
    return undefined;
  }
  if (!thrown) return undefined;
  const error = new HeaderGuardError(violation);
  if (skip !== undefined) Error.captureStackTrace(error, skip);
  if (details.defer === true) return error;
  throw error;
}

/** An error's stack, or undefined when reading it throws (a hostile getter). */
function safeStack(error: Error): unknown {
  try {
    return error.stack;
  } catch {
    return undefined;
  }
}

/**
 * An outermost guarded call starts: remember it (its caller is where a stack capture starts, and
 * it is the call reports name). The caller runs the original and sets `depth` back to 0 in a finally.
 */
function enter(state: ResponseState, fn: AnyFunction, name: string, status: unknown): void {
  state.outerFn = fn;
  state.outerName = name;
  state.outerStatus = typeof status === 'number' ? status : undefined;
  state.serial++;
  state.depth = 1;
}

/**
 * Run a wrapper's original method as the outermost guarded call (its caller is where stacks
 * start, and it is the call reports name). A call nested in another guarded call does not come
 * here: the wrapper forwards it with `original.apply(this, arguments)` itself, which V8 compiles
 * without building an arguments object (one Express `res.send()` makes a dozen nested calls).
 */
function runOutermost(state: ResponseState, self: object, fn: AnyFunction, name: string, status: unknown, original: AnyFunction, args: IArguments): unknown {
  enter(state, fn, name, status);
  try {
    return original.apply(self, args as unknown as unknown[]);
  } finally {
    state.depth = 0;
  }
}

/** The function above which a stack capture starts: the outermost guarded call, or `fn` itself. */
function outermost(state: ResponseState, fn: AnyFunction): AnyFunction {
  return state.depth === 0 || state.outerFn === undefined ? fn : state.outerFn;
}

/** Record the first flush of the headers: by the body call that owns the response, or by the outermost call. */
function noteFlush(state: ResponseState, fn: AnyFunction): void {
  if (state.sent !== undefined || !headersSent(state.res)) return;
  const skip = outermost(state, fn);
  if (state.claim !== undefined) state.sent = state.claim;
  else if (state.depth === 0) state.sent = record(state, skip, 'writeHead', typeof state.statusCode === 'number' ? state.statusCode : undefined);
  else state.sent = record(state, skip, state.outerName, state.outerStatus);
  if (state.timeline !== undefined) note(state, `headers sent (status ${String(state.statusCode)}) by ${recordCall(state.sent)}`);
  if (state.tracing) traceEvent(state, 'headers sent', state.sent);
}

/** What a dropped call returns, matching what the real method returns, so chains like `res.status(500).json()` keep working. */
type DropValue = 'this' | 'undefined' | 'false';

function dropped(res: object, value: DropValue): unknown {
  return value === 'this' ? res : value === 'false' ? false : undefined;
}

/** How each guarded method is checked. */
type Role = 'header' | 'status' | 'body' | 'asyncBody' | 'writeHead' | 'write' | 'end';

/** The methods the guard wraps, by prototype-owned name: Node's and Express's. */
const METHODS: Record<string, { role: Role; returns: DropValue }> = {
  // node:http
  setHeader: { role: 'header', returns: 'this' },
  appendHeader: { role: 'header', returns: 'this' },
  removeHeader: { role: 'header', returns: 'undefined' },
  setHeaders: { role: 'header', returns: 'this' },
  writeHead: { role: 'writeHead', returns: 'this' },
  write: { role: 'write', returns: 'false' },
  end: { role: 'end', returns: 'this' },
  // express
  status: { role: 'status', returns: 'this' },
  set: { role: 'header', returns: 'this' },
  header: { role: 'header', returns: 'this' },
  append: { role: 'header', returns: 'this' },
  cookie: { role: 'header', returns: 'this' },
  clearCookie: { role: 'header', returns: 'this' },
  type: { role: 'header', returns: 'this' },
  contentType: { role: 'header', returns: 'this' },
  location: { role: 'header', returns: 'this' },
  vary: { role: 'header', returns: 'this' },
  links: { role: 'header', returns: 'this' },
  attachment: { role: 'header', returns: 'this' },
  format: { role: 'header', returns: 'this' },
  send: { role: 'body', returns: 'this' },
  json: { role: 'body', returns: 'this' },
  jsonp: { role: 'body', returns: 'this' },
  sendStatus: { role: 'body', returns: 'this' },
  redirect: { role: 'body', returns: 'undefined' },
  sendFile: { role: 'asyncBody', returns: 'undefined' },
  download: { role: 'asyncBody', returns: 'undefined' },
  render: { role: 'asyncBody', returns: 'undefined' },
};

/** A plausible status code; anything else goes to Node/Express unchanged so their own validation speaks. */
function isStatusCode(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 999;
}

/*
 * The wrappers. Each checks its call against the response's state, then runs the original:
 * nested calls go straight through, free of bookkeeping, and the outermost through runOutermost.
 */

/** Node's own header methods, which every Express header method ends in. */
const NODE_HEADER_METHODS = new Set(['setHeader', 'appendHeader', 'removeHeader']);
const HEADER_ACTIONS: Record<string, HeaderOrigin['action']> = { setHeader: 'set', appendHeader: 'append', removeHeader: 'remove' };

/** Record who changed a header (trackHeaders): the caller of the outermost response method. */
function trackHeader(state: ResponseState, fn: AnyFunction, name: string, header: unknown): void {
  if (typeof header !== 'string' || state.headers === undefined) return;
  const key = header.toLowerCase();
  const low = describeCall(name, [header]);
  const call = state.depth > 0 && state.outerName !== name ? `res.${state.outerName}() -> ${low}` : low;
  const origin: HeaderOrigin = { action: HEADER_ACTIONS[name] ?? 'set', call };
  const site = holderFrames(captureStack(outermost(state, fn), state.guard.stackLimit), { max: 1, ignore: state.guard.options.ignore })[0];
  if (site !== undefined) origin.site = site;
  const list = state.headers.get(key);
  if (list === undefined) state.headers.set(key, [origin]);
  else list.push(origin);
}

/** Report lines saying who set a header before, for a late change to it (trackHeaders). */
function setBefore(state: ResponseState, header: unknown): string[] | undefined {
  if (state.headers === undefined || typeof header !== 'string') return undefined;
  const origins = state.headers.get(header.toLowerCase());
  if (origins === undefined || origins.length === 0) return undefined;
  return [`  ${header.toLowerCase()} was changed before by:`, ...origins.map(originLine)];
}

/** One header change as a report line. */
function originLine(origin: HeaderOrigin): string {
  return `      ${origin.call}${origin.site === undefined ? '' : ` at ${formatSite(origin.site)}`}`;
}

/** Header setters, `format`: late once the headers are out (Node throws ERR_HTTP_HEADERS_SENT for all of them). */
function wrapHeader(name: string, original: AnyFunction, returns: DropValue): AnyFunction {
  // Every header change ends in one of Node's three methods: the timeline and the origins note those.
  const nodeMethod = NODE_HEADER_METHODS.has(name);
  const guarded = function (this: GuardedResponse): unknown {
    const state = this[kState];
    if (state === undefined) return original.apply(this, arguments as unknown as unknown[]);
    if (state.bodyDepth === 0 && headersSent(this)) {
      flag(state, 'late-header', describeCall(name, arguments, state.guard.options.includeValues), guarded, { nodeWouldThrow: true, notes: setBefore(state, arguments[0]) });
      return dropped(this, returns);
    }
    if (nodeMethod) {
      if (state.timeline !== undefined) note(state, describeCall(name, arguments, state.guard.options.includeValues));
      if (state.headers !== undefined) trackHeader(state, guarded, name, arguments[0]);
    }
    if (state.depth > 0) return original.apply(this, arguments as unknown as unknown[]);
    return runOutermost(state, this, guarded, name, undefined, original, arguments);
  };
  return guarded;
}

/** `res.status(code)`: late when the headers are out and the code differs from the one sent. */
function wrapStatus(name: string, original: AnyFunction, returns: DropValue): AnyFunction {
  const guarded = function (this: GuardedResponse): unknown {
    const state = this[kState];
    if (state === undefined) return original.apply(this, arguments as unknown as unknown[]);
    const code: unknown = arguments[0];
    if (state.bodyDepth === 0 && headersSent(this) && isStatusCode(code) && code !== state.statusCode) {
      flag(state, 'late-status', describeCall(name, [code]), guarded, { requestedStatus: code });
      return dropped(this, returns);
    }
    if (state.depth > 0) return original.apply(this, arguments as unknown as unknown[]);
    return runOutermost(state, this, guarded, name, code, original, arguments);
  };
  return guarded;
}

/** Sync body methods: the first one claims the response for good; a second one is a double send. */
function wrapBody(name: string, original: AnyFunction, returns: DropValue): AnyFunction {
  const guarded = function (this: GuardedResponse): unknown {
    const state = this[kState];
    // Inside another body call (json -> send, sendStatus -> send): part of that call.
    if (state === undefined || state.bodyDepth > 0) return original.apply(this, arguments as unknown as unknown[]);
    const status: unknown = name === 'sendStatus' ? arguments[0] : undefined;
    if (answered(state)) {
      flag(state, 'double-send', describeCall(name, arguments, state.guard.options.includeValues), guarded, { nodeWouldThrow: headersSent(this) });
      return dropped(this, returns);
    }
    const claim = record(state, guarded, name, typeof status === 'number' ? status : undefined);
    state.claim = claim;
    if (state.timeline !== undefined) note(state, `${recordCall(claim)} claims the body`);
    if (state.tracing) traceEvent(state, 'body claimed', claim);
    const outermost = state.depth === 0;
    if (outermost) enter(state, guarded, name, status);
    state.bodyDepth = 1;
    try {
      return original.apply(this, arguments as unknown as unknown[]);
    } catch (error) {
      // It threw before sending anything (bad arguments, a JSON cycle): the response is still open.
      if (!headersSent(this) && state.claim === claim) state.claim = undefined;
      throw error;
    } finally {
      state.bodyDepth = 0;
      if (outermost) state.depth = 0;
    }
  };
  return guarded;
}

/** Release an async body call's claim when it calls back (done, or failed before sending). */
function release(state: ResponseState, claim: SendRecord): void {
  if (state.claim !== claim) return;
  state.claim = undefined;
  if (state.timeline !== undefined) note(state, `${recordCall(claim)} called back`);
  if (state.tracing) traceEvent(state, 'claim released', claim);
}

/** Most arguments each async body method takes, callback included (Express 4 and 5 alike). */
const MAX_ARGUMENTS: Record<string, number> = { sendFile: 3, download: 4, render: 3 };

/**
 * The arguments of an async body call with a callback that releases its claim: the user's
 * callback wrapped, or, when there is none, one that does what Express does without one.
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
function wrapAsyncBody(name: string, original: AnyFunction, returns: DropValue): AnyFunction {
  const guarded = function (this: GuardedResponse): unknown {
    const state = this[kState];
    // Inside another body call (download -> sendFile), or render with the user's callback: not a claim.
    if (state === undefined || state.bodyDepth > 0) return original.apply(this, arguments as unknown as unknown[]);
    if (name === 'render' && Array.prototype.some.call(arguments, (argument) => typeof argument === 'function')) {
      return original.apply(this, arguments as unknown as unknown[]);
    }
    if (answered(state)) {
      flag(state, 'double-send', describeCall(name, arguments, state.guard.options.includeValues), guarded);
      return dropped(this, returns);
    }
    const claim = record(state, guarded, name);
    const args = withReleasingCallback(state, this, name, claim, arguments);
    // No room for a callback in these arguments: the call goes unclaimed.
    if (args === undefined) return original.apply(this, arguments as unknown as unknown[]);
    state.claim = claim;
    if (state.timeline !== undefined) note(state, `${recordCall(claim)} claims the body until it calls back`);
    if (state.tracing) traceEvent(state, 'body claimed', claim);
    const outermost = state.depth === 0;
    if (outermost) enter(state, guarded, name, undefined);
    state.bodyDepth = 1;
    try {
      return original.apply(this, args);
    } catch (error) {
      release(state, claim);
      throw error;
    } finally {
      state.bodyDepth = 0;
      if (outermost) state.depth = 0;
    }
  };
  return guarded;
}

/** `writeHead`: late once the headers are out; otherwise it is where the headers get flushed. */
function wrapWriteHead(name: string, original: AnyFunction, returns: DropValue): AnyFunction {
  const guarded = function (this: GuardedResponse): unknown {
    const state = this[kState];
    if (state === undefined) return original.apply(this, arguments as unknown as unknown[]);
    if (headersSent(this)) {
      flag(state, 'late-header', describeCall(name, arguments, state.guard.options.includeValues), guarded, { nodeWouldThrow: true });
      return dropped(this, returns);
    }
    const result = state.depth > 0 ? original.apply(this, arguments as unknown as unknown[]) : runOutermost(state, this, guarded, name, arguments[0], original, arguments);
    if (state.sent === undefined) noteFlush(state, guarded);
    if (state.guard.hangWatch !== undefined) progress(state, guarded, 'writeHead');
    if (state.guard.options.lint) lintHeaders(state);
    return result;
  };
  return guarded;
}

/** `write`: data after the end is lost (Node emits an async ERR_STREAM_WRITE_AFTER_END). */
function wrapWrite(name: string, original: AnyFunction, returns: DropValue): AnyFunction {
  const guarded = function (this: GuardedResponse): unknown {
    const state = this[kState];
    if (state === undefined) return original.apply(this, arguments as unknown as unknown[]);
    if (writableEnded(this)) {
      flag(state, 'write-after-end', 'res.write()', guarded);
      return dropped(this, returns);
    }
    if (state.guard.options.lint) lintBody(state, guarded, 'res.write()', arguments[0], arguments[1]);
    const result = state.depth > 0 ? original.apply(this, arguments as unknown as unknown[]) : runOutermost(state, this, guarded, name, undefined, original, arguments);
    if (state.guard.hangWatch !== undefined) progress(state, guarded, 'write');
    return result;
  };
  return guarded;
}

/** `end`: with data after the end it is a write after end; a bare second `end()` is harmless, as in Node. */
function wrapEnd(name: string, original: AnyFunction, returns: DropValue): AnyFunction {
  const guarded = function (this: GuardedResponse): unknown {
    const state = this[kState];
    if (state === undefined) return original.apply(this, arguments as unknown as unknown[]);
    if (writableEnded(this)) {
      const chunk: unknown = arguments[0];
      // Node's own test: `if (chunk)` -- an empty string or a callback is no data.
      if (chunk && typeof chunk !== 'function') {
        flag(state, 'write-after-end', 'res.end(data)', guarded);
        return dropped(this, returns);
      }
      return original.apply(this, arguments as unknown as unknown[]);
    }
    const skip = outermost(state, guarded);
    const lint = state.guard.options.lint;
    if (lint && typeof arguments[0] !== 'function') lintBody(state, guarded, 'res.end(data)', arguments[0], arguments[1]);
    const result = state.depth > 0 ? original.apply(this, arguments as unknown as unknown[]) : runOutermost(state, this, guarded, name, undefined, original, arguments);
    if (state.ended === undefined && writableEnded(this)) {
      const sent = state.sent;
      state.ended = state.claim ?? (sent !== undefined && sent.serial === state.serial ? sent : record(state, skip, 'end'));
      if (state.timeline !== undefined) note(state, 'ended');
      if (state.tracing) traceEvent(state, 'ended', state.ended);
      if (lint) lintLength(state, skip);
      state.guard.hangWatch?.unwatch(state);
    }
    return result;
  };
  return guarded;
}

/** Headers that take one value: several at the flush means clients pick one, or reject the response. */
const SINGLE_VALUE_HEADERS = [
  'content-type', 'content-length', 'content-encoding', 'content-location', 'content-range', 'content-disposition',
  'location', 'etag', 'last-modified', 'expires', 'age', 'retry-after',
  'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-max-age',
  'x-frame-options', 'x-content-type-options', 'strict-transport-security', 'referrer-policy',
];

/** Report a lint kind once per response. */
function lintOnce(state: ResponseState, kind: ViolationKind): boolean {
  state.linted ??= [];
  if (state.linted.includes(kind)) return false;
  state.linted.push(kind);
  return true;
}

/** Lint at the flush: a one-value header with several values, naming each change to it. */
function lintHeaders(state: ResponseState): void {
  const res = state.res;
  for (const name of SINGLE_VALUE_HEADERS) {
    const value = res.getHeader(name);
    if (!Array.isArray(value) || value.length < 2 || !lintOnce(state, 'duplicate-header')) continue;
    const origins = state.headers?.get(name) ?? [];
    const last = origins.filter((origin) => origin.action !== 'remove').at(-1);
    flag(state, 'duplicate-header', last?.call ?? `res.setHeader('${name}')`, undefined, {
      headline: `the ${name} header went out with ${value.length} values, and it takes one: clients keep one of them, or reject the response.`,
      offendingFrames: last?.site === undefined ? [] : [last.site],
      offendingLabel: `  the last value came from ${last?.call ?? 'an unknown call'}:`,
      notes: [`  every change to ${name}, in order:`, ...origins.map((origin) => `${originLine(origin)} (${origin.action})`)],
    });
    return;
  }
}

/** How many bytes a write or end argument holds (a string in its encoding, a Buffer, a typed array). */
function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

/** Lint of a write: count the bytes; data on a 204 or 304 is dropped by Node. */
function lintBody(state: ResponseState, fn: AnyFunction, call: string, chunk: unknown, encoding: unknown): void {
  const bytes = byteLength(chunk, encoding);
  if (bytes === 0) return;
  state.bytesWritten += bytes;
  const status = state.statusCode;
  if ((status === 204 || status === 304) && state.req.method !== 'HEAD' && lintOnce(state, 'body-on-no-content')) {
    flag(state, 'body-on-no-content', call, fn, {
      headline: `${call} wrote ${bytes} bytes on a ${status} response, which has no body: Node drops them without a word.`,
      offendingLabel: `  the write: ${call}`,
    });
  }
}

/** Lint at the end: the bytes written against the Content-Length that went out. */
function lintLength(state: ResponseState, fn: AnyFunction): void {
  const res = state.res;
  const declared = Number(res.getHeader('content-length'));
  const status = state.statusCode;
  if (!Number.isFinite(declared) || status === 204 || status === 304 || state.req.method === 'HEAD') return;
  if (declared === state.bytesWritten || !lintOnce(state, 'content-length-mismatch')) return;
  const effect = state.bytesWritten < declared ? 'the client waits for the rest until the connection closes' : 'the extra bytes corrupt the next response on a kept-alive connection';
  flag(state, 'content-length-mismatch', 'res.end()', fn, {
    headline: `the response declared Content-Length ${declared} but wrote ${state.bytesWritten} bytes: ${effect}.`,
    offendingLabel: '  ended by res.end():',
    notes: setBefore(state, 'content-length'),
  });
}

/** A flush or a write: the response made progress, so its hang clock starts over. */
function progress(state: ResponseState, fn: AnyFunction, method: string): void {
  state.lastProgress = state.depth > 0 && state.claim !== undefined ? state.claim : record(state, outermost(state, fn), method);
  state.lastProgressAt = now();
}

/**
 * Responses watched for hangs, per guard, and the one timer that sweeps them. The watched
 * responses form a doubly linked list through their states: joining and leaving it are a few
 * field writes, where a timer and listeners per response, or even a Set (which hashes each
 * state), would cost every request. Responses leave at the real end(), or at the sweep once
 * their client is gone.
 */
class HangWatch {
  /** The most recently watched response; each state links to its neighbours. */
  private head: ResponseState | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly ms: number) {}

  /** Start watching a response (once). */
  watch(state: ResponseState): void {
    if (state.watched) return;
    state.lastProgressAt = now();
    state.watched = true;
    state.watchNext = this.head;
    if (this.head !== undefined) this.head.watchPrevious = state;
    this.head = state;
    if (this.timer === undefined) {
      // Sweep four times per timeout (between 10 ms and 1 s): a hang is reported at most a
      // quarter of the timeout late.
      this.timer = setInterval(() => this.sweep(), Math.min(1000, Math.max(10, this.ms / 4)));
      this.timer.unref();
    }
  }

  /** Stop watching a response (it ended, hung or lost its client). */
  unwatch(state: ResponseState): void {
    if (!state.watched) return;
    state.watched = false;
    const previous = state.watchPrevious;
    const next = state.watchNext;
    if (previous === undefined) this.head = next;
    else previous.watchNext = next;
    if (next !== undefined) next.watchPrevious = previous;
    state.watchPrevious = undefined;
    state.watchNext = undefined;
  }

  private sweep(): void {
    const at = now();
    for (let state = this.head; state !== undefined;) {
      const next = state.watchNext;
      const res = state.res;
      if (res.writableFinished || res.destroyed || state.req.socket?.destroyed === true) {
        this.unwatch(state);
      } else if (at - state.lastProgressAt >= this.ms) {
        this.unwatch(state);
        reportHang(state, this.ms);
      }
      state = next;
    }
    if (this.head === undefined && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** No progress for hangTimeoutMs and not finished: report it once, with where it last wrote. */
function reportHang(state: ResponseState, ms: number): void {
  const last = state.lastProgress;
  const frames = last === undefined ? [] : holderFrames(last.stack, state.guard.frames);
  const sent = headersSent(state.res) ? 'its headers were sent' : 'not even its headers were sent';
  flag(state, 'hang', last === undefined ? 'no response call' : recordCall(last), undefined, {
    headline: `the response has made no progress for ${ms} ms and has not ended (${sent}): nothing calls res.end() or sends it.`,
    offendingFrames: frames,
    offendingLabel: last === undefined
      ? '  nothing was written since header-guard saw the response'
      : `  last progress: ${recordCall(last)}, ${Math.round(now() - last.at)} ms ago:${last.stack === undefined ? ' (site not captured)' : ''}`,
  });
}

const WRAPPERS: Record<Role, (name: string, original: AnyFunction, returns: DropValue) => AnyFunction> = {
  header: wrapHeader,
  status: wrapStatus,
  body: wrapBody,
  asyncBody: wrapAsyncBody,
  writeHead: wrapWriteHead,
  write: wrapWrite,
  end: wrapEnd,
};

const hasOwn = (object: object, key: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(object, key);

/**
 * Wrap the guarded methods on every prototype of this response that owns them (Node's
 * OutgoingMessage and ServerResponse, Express's response), once per prototype. Responses
 * without guard state go straight to the original methods.
 */
function patchPrototypes(res: object): void {
  const proto: unknown = Object.getPrototypeOf(res);
  if (proto === lastPatchedPrototype) return;
  patchChain(proto);
  lastPatchedPrototype = proto;
}

/** The prototype patchPrototypes saw last: nearly every response of an app has the same one. */
let lastPatchedPrototype: unknown;

/** Wrap the guarded methods on `first` and every prototype after it (see patchPrototypes). */
function patchChain(first: unknown): void {
  if (first === null || typeof first !== 'object' || hasOwn(first, kPatched)) return;
  for (let proto = first as object | null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    if (hasOwn(proto, kPatched)) continue;
    try {
      for (const name of Object.keys(METHODS)) {
        const descriptor = Object.getOwnPropertyDescriptor(proto, name);
        const spec = METHODS[name];
        if (spec === undefined || descriptor === undefined || typeof descriptor.value !== 'function' || descriptor.writable !== true) continue;
        const wrapped = WRAPPERS[spec.role](name, descriptor.value as AnyFunction, spec.returns);
        Object.defineProperty(wrapped, 'name', { value: name });
        Object.defineProperty(proto, name, { ...descriptor, value: wrapped });
      }
      patchStatusCode(proto);
      Object.defineProperty(proto, kPatched, { value: true });
    } catch {
      // A frozen prototype: its methods stay unguarded.
    }
  }
}

/**
 * The accessor behind `res.statusCode`: catches `res.statusCode = 500` after the headers were
 * sent. It replaces the plain data property where Node keeps the default (on
 * ServerResponse.prototype), once, so guarded responses need nothing per request: their status
 * lives in the guard's state. A response the guard does not watch behaves as before: its first
 * assignment creates its own data property, exactly as assigning to Node's default does.
 */
function statusCodeAccessor(defaultValue: unknown): PropertyDescriptor {
  return {
    get(this: GuardedResponse): unknown {
      const state = this[kState];
      return state === undefined ? defaultValue : state.statusCode;
    },
    set: setStatusCode,
    enumerable: true,
    configurable: true,
  };
}

/** The setter of both accessors (prototype and, where an own value existed, per response). */
function setStatusCode(this: GuardedResponse, value: unknown): void {
  const state = this[kState];
  if (state === undefined) {
    Object.defineProperty(this, 'statusCode', { value, writable: true, enumerable: true, configurable: true });
    return;
  }
  if (state.depth === 0 && value !== state.statusCode && headersSent(this) && isStatusCode(value)) {
    flag(state, 'late-status', `res.statusCode = ${value}`, setStatusCode as AnyFunction, { requestedStatus: value });
    return;
  }
  state.statusCode = value;
}

/** Replace a prototype's own plain `statusCode` data property by the accessor (from patchChain). */
function patchStatusCode(proto: object): void {
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'statusCode');
  if (descriptor === undefined || !('value' in descriptor) || descriptor.writable !== true || descriptor.configurable !== true) return;
  Object.defineProperty(proto, 'statusCode', statusCodeAccessor(descriptor.value));
}

/** Per response that already had its own `statusCode` when the guard came: the same accessor on the instance. */
const OWN_STATUS_CODE_ACCESSOR: PropertyDescriptor = statusCodeAccessor(undefined);

/**
 * Make sure `res.statusCode` goes through the accessor. Nearly always it already does, through
 * the prototype. A response given its own value before the guard saw it (a middleware mounted
 * earlier assigned it) gets the accessor on the instance. Where `statusCode` is an accessor of
 * its own (HTTP/2's compatibility response) it is left alone; `res.status()` is still guarded.
 */
function guardStatusCode(res: GuardedResponse, state: ResponseState): void {
  if (!hasOwn(res, 'statusCode')) return;
  const own = Object.getOwnPropertyDescriptor(res, 'statusCode');
  if (own === undefined || !('value' in own) || own.writable !== true || own.configurable !== true) return;
  state.statusCode = own.value;
  Object.defineProperty(res, 'statusCode', OWN_STATUS_CODE_ACCESSOR);
}

/** The guarded version of a router's `next`: reports next() and errors after the response was sent. */
function guardNext(state: ResponseState, next: AnyFunction): AnyFunction {
  if (state.rawNext === next && state.guardedNext !== undefined) return state.guardedNext;
  const guarded = function (this: unknown, err?: unknown): unknown {
    if (err instanceof HeaderGuardError) track(state, err, err);
    else if (state.pending?.has(err) === true) track(state, err);
    else if (answered(state)) lateNext(state, guarded, err);
    return next.apply(this, arguments as unknown as unknown[]);
  };
  state.rawNext = next;
  state.guardedNext = guarded;
  return guarded;
}

/**
 * An error of throw mode is travelling through Express's next(): mark it `passed`, and make sure
 * the guard looks at it again once the response is over. `error` is the HeaderGuardError to
 * rethrow (given the first time; the travelling error is the same object or its cause).
 */
function track(state: ResponseState, travelling: unknown, error?: HeaderGuardError): void {
  if (state.pending === undefined) {
    state.pending = new Map();
    onFinished(state.res, () => setImmediate(surfacePending, state));
  }
  const entry = state.pending.get(travelling);
  if (entry === undefined) {
    if (error !== undefined) state.pending.set(travelling, { error, fate: 'passed' });
  } else if (entry.fate !== 'surfaced') {
    entry.fate = 'passed';
  }
}

/**
 * Rethrow, as an uncaught exception, each error of throw mode that Express swallowed, so that a
 * strict test run fails. Errors an app's own error handler kept are left alone.
 */
function surfacePending(state: ResponseState): void {
  for (const entry of state.pending?.values() ?? []) {
    if (entry.fate !== 'passed') continue;
    entry.fate = 'surfaced';
    trace('rethrowing a violation that Express swallowed: %s', entry.error.violation.kind);
    process.nextTick(() => {
      throw entry.error;
    });
  }
}

/** next() or next(err) after the response was sent; each error and the first plain next() are reported once. */
function lateNext(state: ResponseState, guarded: AnyFunction, err: unknown): void {
  if (err && err !== 'route' && err !== 'router') {
    state.reportedErrors ??= [];
    if (state.reportedErrors.includes(err)) return;
    state.reportedErrors.push(err);
    // next(err) is Express's own call (from its catch or a rejected promise): throwing here would
    // replace the app's error. The error goes on unchanged; in throw mode it is tracked, and
    // rethrown as a HeaderGuardError if no error handler of the app deals with it.
    const error = flag(state, 'error-after-send', 'next(err)', guarded, { error: err, defer: true });
    if (error !== undefined) track(state, err, error);
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
  return function (this: unknown, req: unknown, res: GuardedResponse | undefined, next: unknown): unknown {
    return original.call(this, req, res, nextForLayer(req, res, next));
  };
}

/**
 * Wrap a Layer's error handler entry the same way. A tracked error that reaches an app's own
 * error handler (arity 4) counts as handled, unless the handler passes it on again.
 */
function wrapHandleError(original: AnyFunction): AnyFunction {
  return function (this: { handle?: unknown }, error: unknown, req: unknown, res: GuardedResponse | undefined, next: unknown): unknown {
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
function patchLayers(app: unknown): void {
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

/**
 * Who set, appended or removed each header of a response, in order: a `Map` from the lowercased
 * header name to its changes (a middleware like helmet first, the app's override last). Needs
 * `trackHeaders: true` (or `lint: true`) on the guard; otherwise, or for a response the guard
 * did not see, the map is empty.
 *
 * @param res - the response.
 * @public
 */
export function headerOrigins(res: ServerResponse): Map<string, HeaderOrigin[]> {
  const headers = hasOwn(res, kState) ? (res as GuardedResponse)[kState]?.headers : undefined;
  const copy = new Map<string, HeaderOrigin[]>();
  for (const [name, origins] of headers ?? []) copy.set(name, origins.map((origin) => ({ ...origin })));
  return copy;
}

/** Servers whose request listeners were checked for Express apps. */
const checkedServers = new WeakSet<object>();

/**
 * Find the Express apps among a server's request listeners and guard their routers' next()
 * (internal, for the register entry, which sees requests before any middleware runs).
 */
export function guardServerApps(server: unknown): void {
  if (server === null || typeof server !== 'object' || checkedServers.has(server)) return;
  const listeners = (server as { listeners?: (event: string) => unknown[] }).listeners;
  if (typeof listeners !== 'function') return;
  checkedServers.add(server);
  for (const listener of listeners.call(server, 'request')) {
    patchLayers(listener);
    // The response is still a plain ServerResponse when the channel fires: Express gives it its
    // app's prototype later, so wrap Express's methods through the app now.
    if (typeof listener === 'function') patchChain((listener as { response?: unknown }).response);
  }
}

/**
 * Servers whose responses get an empty state slot when their request starts (see reserveSlot).
 * Held weakly; a process has a few servers, so the set never churns.
 */
const slotServers = new WeakSet<object>();
/** The server reserveSlotsFor saw last: a process nearly always has one. */
let lastSlotServer: unknown;
/** Whether reserveSlot listens to `http.server.request.start` yet (from the first server on, for good). */
let slotSubscribed = false;

/**
 * From now on, give each response of this request's server an empty state slot at request start
 * (internal; the middleware calls it). Why: Express switches the response's prototype, and after
 * that V8 gives every response its own hidden class, so adding a property to it builds a new
 * class each time (2-3 µs per request on Node 20, the guard's largest cost). A property added
 * before the switch, on the plain ServerResponse, follows a cached transition and costs nothing
 * measurable; the middleware then only assigns it.
 */
function reserveSlotsFor(req: IncomingMessage): void {
  const server: unknown = (req.socket as { server?: unknown } | null | undefined)?.server;
  if (server === lastSlotServer) return;
  lastSlotServer = server;
  if (server === null || typeof server !== 'object' || slotServers.has(server)) return;
  if (!slotSubscribed) {
    slotSubscribed = true;
    subscribeForever('http.server.request.start', reserveSlot);
  }
  slotServers.add(server);
}

/** At `http.server.request.start`: add the empty slot to a response of a server the middleware serves. */
function reserveSlot(message: unknown): void {
  const { response, server } = message as { response?: unknown; server?: unknown };
  if (server === null || typeof server !== 'object' || !slotServers.has(server)) return;
  if (response === null || typeof response !== 'object' || hasOwn(response, kState)) return;
  (response as GuardedResponse)[kState] = undefined;
}

/** Start guarding one response (internal, also used by the register entry). */
export function guardResponse(req: IncomingMessage, res: ServerResponse, guard: Guard): void {
  const guardedRes = res as GuardedResponse;
  // An own-property test first: reading a missing symbol walks the whole prototype chain, which
  // costs about a microsecond on a response whose prototype Express has just switched.
  if (hasOwn(res, kState) && guardedRes[kState] !== undefined) return;
  try {
    patchPrototypes(res);
    const state = new ResponseState(guard, req, guardedRes);
    guardedRes[kState] = state;
    guardStatusCode(guardedRes, state);
    guard.hangWatch?.watch(state);
    if (headersSent(res)) trace('%s %s: headers were already sent when header-guard saw the response', req.method, req.url?.split('?')[0]);
  } catch (error) {
    // The guard must never break a response: this one goes on unguarded.
    trace('could not guard a response: %O', error);
  }
}

/**
 * Create the guard middleware.
 *
 * ```ts
 * app.use(headerGuard());                              // Express: mount it first
 * http.createServer((req, res) => guard(req, res, () => handler(req, res)));  // node:http
 * ```
 *
 * It watches every response that passes through it and reports any call made after the
 * response was sent (late status or header, second body, write after end, next() or an error
 * after the response), naming both the offending call and the earlier one.
 *
 * @param options - see {@link HeaderGuardOptions}; checked now, a bad one throws a TypeError.
 * @returns Connect/Express middleware.
 * @public
 */
export function headerGuard(options?: HeaderGuardOptions): HeaderGuardMiddleware {
  const guard = new Guard(resolveOptions(options));
  return function headerGuardMiddleware(req, res, next) {
    guardResponse(req, res, guard);
    reserveSlotsFor(req);
    patchLayers((req as IncomingMessage & { app?: unknown }).app);
    next();
  };
}
