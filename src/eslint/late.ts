/**
 * The state of each response along a path, as the rule follows it: which earlier calls may have
 * answered it or sent its headers, and which call is late against them, with the runtime's kind
 * names (double-send, late-status, late-header, write-after-end, next-after-send).
 */
import type { Rule, Scope } from 'eslint';
import type { ViolationKind } from '../kinds.js';
import type { Event } from './events.js';

/** How an earlier call left the response: answered (a body method, `end`, a helper), passed on (`next()`), or headers sent (`write`, `writeHead`). */
export type Did = 'answered' | 'passed' | 'flushed';

/** An earlier call that may have answered a response (or sent its headers) on the way here. */
export interface Earlier {
  readonly node: Rule.Node;
  readonly text: string;
  readonly did: Did;
  /** It ran before this function started: in an earlier `.then()` of the chain, or for an earlier item of `forEach`/`map`. */
  readonly carriedFrom?: 'then' | 'item';
}

/** What may have happened to one response on the way here. */
interface Facts {
  readonly answered: ReadonlySet<Earlier>;
  readonly flushed: ReadonlySet<Earlier>;
}

/** The state of every response at one point: only responses something happened to. */
export type ResponseState = ReadonlyMap<Scope.Variable, Facts>;

/** The kinds the rule reports: the runtime guard's names for the same bugs (src/kinds.ts). */
export type LateKind = Extract<ViolationKind, 'double-send' | 'late-status' | 'late-header' | 'write-after-end' | 'next-after-send'>;

/** A late call: its kind and the earlier calls it can run after. */
export interface Late {
  readonly kind: LateKind;
  readonly text: string;
  readonly earlier: ReadonlySet<Earlier>;
}

export const EMPTY: ResponseState = new Map();

/** Paths meeting: whatever happened on any of them may have happened. */
export function join(states: readonly ResponseState[]): ResponseState {
  const merged = new Map<Scope.Variable, { answered: Set<Earlier>; flushed: Set<Earlier> }>();
  for (const state of states) {
    for (const [variable, facts] of state) {
      const into = merged.get(variable) ?? { answered: new Set<Earlier>(), flushed: new Set<Earlier>() };
      for (const earlier of facts.answered) into.answered.add(earlier);
      for (const earlier of facts.flushed) into.flushed.add(earlier);
      merged.set(variable, into);
    }
  }
  return merged;
}

/** Whether two states hold the same facts. */
export function equal(a: ResponseState, b: ResponseState): boolean {
  if (a.size !== b.size) return false;
  for (const [variable, facts] of a) {
    const other = b.get(variable);
    if (other === undefined || !sameSet(facts.answered, other.answered) || !sameSet(facts.flushed, other.flushed)) return false;
  }
  return true;
}

/** Whether two sets hold the same members. */
function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

/** Which kind of late call an event is against what may have happened before it, if any. */
export function lateKind(event: Event, facts: Facts | undefined): { kind: LateKind; earlier: ReadonlySet<Earlier> } | undefined {
  if (facts === undefined || event.type === 'guard' || event.type === 'catch') return undefined;
  const { answered, flushed } = facts;
  if (event.type !== 'call') {
    if (answered.size === 0) return undefined;
    return { kind: event.type === 'next' ? 'next-after-send' : 'double-send', earlier: answered };
  }
  const call = event.facts;
  if (answered.size > 0) {
    const kind: LateKind | undefined = call.answers ? 'double-send' : call.status ? 'late-status' : call.header ? 'late-header' : call.writes || call.endsWithData ? 'write-after-end' : undefined;
    return kind === undefined ? undefined : { kind, earlier: answered };
  }
  if (flushed.size === 0) return undefined;
  // After write() or writeHead(): a body method sets headers; write() and end() go on as they should.
  const kind: LateKind | undefined = call.status ? 'late-status' : call.answers || call.header ? 'late-header' : undefined;
  return kind === undefined ? undefined : { kind, earlier: flushed };
}

/** The state after an event; `onLate` hears of a late call first. */
export function apply(state: ResponseState, event: Event, node: Rule.Node, onLate?: (late: Late) => void): ResponseState {
  if (event.type === 'catch') return forgetInside(state, event.tried);
  const facts = state.get(event.variable);
  if (onLate !== undefined && event.type !== 'guard') {
    const late = lateKind(event, facts);
    if (late !== undefined) onLate({ ...late, text: event.text });
  }
  const next = new Map(state);
  if (event.type === 'guard') {
    next.delete(event.variable);
    return next;
  }
  const did: Did | undefined = event.type === 'next' ? 'passed' : event.type !== 'call' || event.facts.answers || event.facts.ends ? 'answered' : event.facts.flushes ? 'flushed' : undefined;
  if (did === undefined) return state;
  const earlier = earlierFor(node, event.text, did);
  const answered = new Set(facts?.answered);
  const flushed = new Set(facts?.flushed);
  if (did === 'flushed') flushed.add(earlier);
  else answered.add(earlier);
  next.set(event.variable, { answered, flushed });
  return next;
}

/**
 * The state at the start of a catch block: an answer inside the try block is taken as the last
 * thing it did (`try { answer } catch { answer }` is the normal idiom); answers before it stay.
 */
function forgetInside(state: ResponseState, [start, end]: readonly [number, number]): ResponseState {
  const outside = (earlier: Earlier) => (earlier.node.range?.[0] ?? -1) < start || (earlier.node.range?.[0] ?? -1) >= end;
  const next = new Map<Scope.Variable, Facts>();
  for (const [variable, facts] of state) {
    const answered = new Set([...facts.answered].filter(outside));
    const flushed = new Set([...facts.flushed].filter(outside));
    if (answered.size > 0 || flushed.size > 0) next.set(variable, { answered, flushed });
  }
  return next;
}

/** One Earlier per node, so that states reached twice compare equal (the solver stops on equal states). */
const earliers = new WeakMap<Rule.Node, Earlier>();

/** The Earlier of a node, made once. */
function earlierFor(node: Rule.Node, text: string, did: Did): Earlier {
  let earlier = earliers.get(node);
  if (earlier === undefined) earliers.set(node, (earlier = { node, text, did }));
  return earlier;
}

/** The state a function starts from when an earlier run answered: a later `.then()` after its predecessor, the next item's run of a `forEach` callback. */
export function carried(state: ResponseState, from: 'then' | 'item'): ResponseState {
  const next = new Map<Scope.Variable, Facts>();
  for (const [variable, facts] of state) {
    if (facts.answered.size === 0) continue;
    next.set(variable, { answered: new Set([...facts.answered].map((earlier) => ({ ...earlier, carriedFrom: from }))), flushed: new Set() });
  }
  return next;
}
