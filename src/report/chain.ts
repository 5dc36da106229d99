/**
 * One bug, one report: a chained late call in one statement (`res.status(500).json(x)`,
 * `res.set('a', 'b').send(x)` under contain, Fastify's `reply.code(500).send()`) is one report,
 * of the kind of the call the chain ends in (a double send, or a write after the end), that
 * also names the earlier links, which the client never saw.
 *
 * How: the report of a late status or header that does not throw is held, not delivered, until
 * the current synchronous run ends (a microtask). If the next report of the same response comes
 * before that, is a double send or a write after the end, and was made from the same line of the
 * same activation (its stack holds the first link's caller frame, same file and line, with the
 * same frames below it), the held report is merged into it. Anything else
 * delivers the held report first, unchanged. Only reports pay for this: the stacks compared are
 * the ones captured for the reports anyway.
 *
 * Throw mode never holds: the first link throws, which stops the statement, so the user sees one
 * error, for the first link. A chain split over several lines is two reports.
 */
import type { Guard } from '../guard.js';
import type { ResponseState } from '../state.js';
import type { CallSite, ChainedCall, Violation, ViolationKind } from '../types.js';
import { isOwnFrame, parseStack, type StackHolder } from './callsite.js';

/** One guard's report of one violation, ready to deliver. */
export interface Delivery {
  guard: Guard;
  violation: Violation;
  /** This guard's mode throws it (never true for a held report). */
  thrown: boolean;
}

/** A report held until the statement's next link, or the end of the synchronous run. */
export interface Held {
  deliveries: Delivery[];
  /** The late call's captured stack, to compare with the next link's. */
  offending: StackHolder;
}

/** Kinds that can be an earlier link of a chain: held when they do not throw. */
const EARLIER_LINKS: readonly ViolationKind[] = ['late-status', 'late-header'];
/** Kinds a chain ends in: an earlier held link merges into them. */
const LAST_LINKS: readonly ViolationKind[] = ['double-send', 'write-after-end'];

/** The held report of each response (at most one), with the function that delivers it. */
const held = new Map<ResponseState, { report: Held; deliver: (report: Held) => void }>();

/**
 * Whether a report of this kind is held (it may be a chain's earlier link): a late status, or a
 * late header that Node does not throw for (Fastify's) or that a guard contains. A header Node
 * throws for stops the statement, and may crash the process before a microtask runs: delivered at once.
 */
export function holds(kind: ViolationKind, nodeWouldThrow: boolean, contain: boolean): boolean {
  return EARLIER_LINKS.includes(kind) && (!nodeWouldThrow || contain);
}

/** Deliver every held report now: the process is dying of an uncaught exception, or exiting, before the microtask. */
function deliverAll(): void {
  for (const [state, entry] of [...held]) {
    held.delete(state);
    entry.deliver(entry.report);
  }
}

/** Whether the process hooks that deliver held reports before an exit are installed (once, on the first hold). */
let exitHooked = false;

/** Hold a report; `deliver` runs at the end of the synchronous run unless the report was taken meanwhile. */
export function hold(state: ResponseState, report: Held, deliver: (report: Held) => void): void {
  held.set(state, { report, deliver });
  if (!exitHooked) {
    exitHooked = true;
    // A monitor and an exit listener change nothing the process does: they only see it go.
    process.on('uncaughtExceptionMonitor', deliverAll);
    process.on('exit', deliverAll);
  }
  queueMicrotask(() => {
    if (held.get(state)?.report !== report) return;
    held.delete(state);
    deliver(report);
  });
}

/** Take the response's held report, if any (it is then the caller's to merge or deliver). */
export function takeHeld(state: ResponseState): Held | undefined {
  const entry = held.get(state);
  if (entry !== undefined) held.delete(state);
  return entry?.report;
}

/** The frames of a captured stack that are not the guard's own; empty when it cannot be read. */
function framesOf(holder: StackHolder): CallSite[] {
  let stack: unknown;
  try {
    stack = holder.stack;
  } catch {
    return [];
  }
  return typeof stack === 'string' ? parseStack(stack).filter((frame) => !isOwnFrame(frame)) : [];
}

/**
 * Two frames of the same call position. Function names are not compared: a replaced
 * `Error.prepareStackTrace` (jest's) names a frame after the method it calls, not the caller.
 */
function samePosition(a: CallSite, b: CallSite): boolean {
  return a.file === b.file && a.line === b.line && a.column === b.column;
}

/**
 * Whether `later` (a double send or write after end) continues the statement of the held report:
 * its stack holds the held call's caller frame (same file and line, a later column), with the
 * same frames below it. A response hook between (`res.json` replaced on the response)
 * only adds frames on top.
 */
export function continues(kind: ViolationKind, earlier: Held, later: StackHolder | undefined): boolean {
  if (!LAST_LINKS.includes(kind) || later === undefined) return false;
  const first = framesOf(earlier.offending);
  const second = framesOf(later);
  const top = first[0];
  if (top === undefined) return false;
  const at = second.findIndex((frame) => frame.file === top.file && frame.line === top.line && frame.column >= top.column);
  if (at === -1) return false;
  const below = Math.min(first.length - 1, second.length - at - 1);
  for (let index = 1; index <= below; index++) {
    if (!samePosition(first[index]!, second[at + index]!)) return false;
  }
  return true;
}

/** The held report, for the guard at `index`, as a link of the chain the later report names. */
export function chainedCall(earlier: Held, index: number): ChainedCall | undefined {
  const violation = earlier.deliveries[index]?.violation;
  if (violation === undefined || (violation.kind !== 'late-status' && violation.kind !== 'late-header')) return undefined;
  const link: ChainedCall = { kind: violation.kind, call: violation.call, offending: violation.offending };
  if (violation.kind === 'late-status' && Number.isFinite(violation.requestedStatus)) link.requestedStatus = violation.requestedStatus;
  return link;
}
