/**
 * Reporting one violation of one response: capture the offending call's stack once, build the
 * report for each guard on the response (each with its own options), count it, publish it on
 * the `header-guard:violation` channel, deliver it, and say what the wrapper does next:
 * throw (throw mode), contain (the `contain` option), or let the call run on (log mode).
 *
 * Never lets a failure of its own escape into the response (log mode's promise): only the
 * deliberate HeaderGuardError of throw mode leaves this module.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { captureStack, framesToShow, holderFrames, isUserFrame, type StackHolder } from './callsite.js';
import { buildViolation, type ReportInput } from './build.js';
import { HeaderGuardError, isError, stackOf } from '../errors.js';
import { isHeadersSent } from '../patch/contain.js';
import { routeKey, type Guard } from '../guard.js';
import { REPORT_ONLY_KINDS } from '../kinds.js';
import type { ResolvedOptions } from '../options.js';
import { callOn, earlier, guardsOf, headersSent, note, now, statusSent, trace, writableEnded, type AnyFunction, type ResponseState } from '../state.js';
import { count } from '../stats.js';
import type { CallSite, ChainedCall, Violation, ViolationKind } from '../types.js';
import { chainedCall, continues, hold, holds, takeHeld, type Delivery } from './chain.js';

/**
 * Every violation is published here (public, documented): test helpers, telemetry and custom
 * reporters subscribe with `diagnostics_channel.subscribe('header-guard:violation', fn)` and
 * receive `{ violation, req, res }`.
 */
const violationChannel = diagnosticsChannel.channel('header-guard:violation');

/** What a report needs beyond the kind and the call (internal). */
export interface FlagDetails {
  /** Whether Node throws ERR_HTTP_HEADERS_SENT for the call; undefined: not known (a wrapper assigned to the response took it). */
  nodeWouldThrow?: boolean | undefined;
  requestedStatus?: unknown;
  error?: unknown;
  /** Return the HeaderGuardError of throw mode instead of throwing it. */
  defer?: boolean;
  /** The frames to report instead of capturing the stack now (hang: where it last wrote). */
  offendingFrames?: CallSite[];
  headline?: string;
  offendingLabel?: string;
  notes?: string[];
  /** Earlier links of the same statement merged into this report (report/chain.ts). */
  chained?: ChainedCall[];
}

/**
 * Whether an error that reached a framework after the response was answered is new: not the
 * guard's own HeaderGuardError, not one reported already, and not Node's "Cannot set headers"
 * from a late call reported already (log mode lets that call throw as Node does). A new one is
 * remembered, so each error is reported once, as it travels through routers and error handlers.
 */
export function newErrorAfterSend(state: ResponseState, error: unknown): boolean {
  if (HeaderGuardError.isError(error)) return false;
  if (state.lateThrew && isHeadersSent(error)) return false;
  const reported = (state.reportedErrors ??= []);
  if (reported.includes(error)) return false;
  reported.push(error);
  return true;
}

/** Whether a violation of this kind throws for this guard: throw mode, unless the kind is in `logOnly` or only ever reported. */
function throws(options: ResolvedOptions, kind: ViolationKind): boolean {
  return options.mode === 'throw' && !options.logOnly.includes(kind) && !REPORT_ONLY_KINDS.includes(kind);
}

/** The lines adapters added to this response's reports (annotate.ts), each computed now; one that throws is left out. */
function annotationLines(state: ResponseState, kind: ViolationKind, lateCallHasUserFrame: boolean): string[] {
  const lines: string[] = [];
  for (const annotation of state.annotations ?? []) {
    try {
      const result = annotation({ kind, lateCallHasUserFrame });
      if (typeof result === 'string') lines.push(result);
      else if (result !== undefined) for (const line of result) if (typeof line === 'string') lines.push(line);
    } catch (error) {
      trace('an annotation failed: %O', error);
    }
  }
  return lines;
}

/** The report of one guard, built with its own frame, value and code-frame options. */
function violationFor(state: ResponseState, guard: Guard, kind: ViolationKind, call: string, offending: StackHolder | undefined, details: FlagDetails, at: number): Violation {
  const res = state.res;
  let offendingFrames = isError(details.error) ? framesToShow(stackOf(details.error), guard.frames, true) : [];
  const framesFromError = offendingFrames.length > 0;
  if (details.offendingFrames !== undefined) offendingFrames = details.offendingFrames;
  else if (!framesFromError) offendingFrames = holderFrames(offending, guard.frames);
  const input: ReportInput = {
    kind,
    nodeWouldThrow: details.nodeWouldThrow,
    call,
    offendingFrames,
    framesFromError,
    stillSending: kind === 'double-send' && !headersSent(res) && !writableEnded(res),
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
  if (details.chained !== undefined) input.chained = details.chained;
  if (state.subject !== undefined) input.subject = state.subject;
  if (state.annotations !== undefined) input.annotations = annotationLines(state, kind, offendingFrames.length > 0 && isUserFrame(offendingFrames[0]!, guard.frames.ignore));
  const firstRecord = state.sent ?? state.claim;
  const first = earlier(state, guard, firstRecord);
  if (first !== undefined) input.firstSent = first;
  if (state.ended !== undefined && writableEnded(res)) input.ended = state.ended === firstRecord ? first : earlier(state, guard, state.ended);
  const status = statusSent(state);
  if (headersSent(res) && typeof status === 'number') input.statusCode = status;
  return buildViolation(input);
}

/** Deliver one violation to every guard that built a report of it: counted and published once, then each guard's reporter. */
function deliver(state: ResponseState, deliveries: readonly Delivery[]): void {
  try {
    let published = false;
    let printed = false;
    for (const { guard, violation, thrown } of deliveries) {
      guard.markHot(routeKey(state.req));
      if (!published) {
        // Counted and published once per violation, however many guards watch the response.
        published = true;
        trace('violation %s: %s', violation.kind, violation.call);
        count(violation);
        if (violationChannel.hasSubscribers) violationChannel.publish({ violation, req: state.req, res: state.res });
      }
      // One stderr print per violation, however many guards watch the response.
      if (guard.reporter.report(violation, state.req, state.res, thrown, printed)) printed = true;
    }
  } catch (error) {
    // A failure while reporting must never break the response (log mode's promise).
    trace('could not report a violation: %O', error);
  }
}

/**
 * Report a violation to every guard on the response. In throw mode (any guard's, for this kind)
 * it throws a HeaderGuardError whose stack starts at the caller of `skip` (or returns it, with
 * `defer`). Otherwise the call runs on as it would without the guard, and the result says whether
 * what Node throws or emits for it is to be contained (`true`: a guard has the contain option).
 * A late status or header that does not throw may be the first link of a chained call: its
 * report is held until the statement's next link, and merged into it (report/chain.ts).
 */
export function flag(state: ResponseState, kind: ViolationKind, described: string, skip: AnyFunction | undefined, details: FlagDetails = {}): boolean | HeaderGuardError {
  const guards = guardsOf(state);
  const call = callOn(state, described);
  let thrownBy: Violation | undefined;
  let contain = false;
  try {
    const at = now();
    let deepest = 0;
    for (const guard of guards) deepest = Math.max(deepest, guard.stackLimit);
    const offending = skip === undefined || details.offendingFrames !== undefined ? undefined : captureStack(skip, deepest);
    if (!REPORT_ONLY_KINDS.includes(kind)) note(state, `${call}  <- the late call`);
    const earlier = takeHeld(state);
    const merged = earlier !== undefined && continues(kind, earlier, offending) ? earlier : undefined;
    if (earlier !== undefined && merged === undefined) deliver(state, earlier.deliveries);
    const deliveries: Delivery[] = guards.map((guard, index) => {
      const link = merged === undefined ? undefined : chainedCall(merged, index);
      const violation = violationFor(state, guard, kind, call, offending, link === undefined ? details : { ...details, chained: [link] }, at);
      const thrown = throws(guard.options, kind);
      if (thrown && thrownBy === undefined) thrownBy = violation;
      if (guard.options.contain) contain = true;
      return { guard, violation, thrown };
    });
    if (thrownBy === undefined && offending !== undefined && holds(kind, details.nodeWouldThrow === true, contain)) hold(state, { deliveries, offending }, (report) => deliver(state, report.deliveries));
    else deliver(state, deliveries);
  } catch (error) {
    // A failure while reporting must never break the response (log mode's promise).
    trace('could not report a violation: %O', error);
  }
  if (thrownBy === undefined) return contain;
  const error = new HeaderGuardError(thrownBy);
  if (skip !== undefined) Error.captureStackTrace(error, skip);
  if (details.defer === true) return error;
  throw error;
}
