/**
 * Header origins (the trackHeaders option, and lint): who set, appended or removed each header
 * of a response, in order, so that a late or duplicate header's report can say who changed it
 * before, and `headerOrigins(res)` can answer "who set this header?".
 */
import type { ServerResponse } from 'node:http';
import { captureStack, formatSite, holderFrames, type StackHolder } from '../report/callsite.js';
import { describeCall } from '../report/build.js';
import { hasOwn, outermost, type AnyFunction, type GuardedResponse, type ResponseState } from '../state.js';
import { kState } from '../symbols.js';
import type { CallSite, HeaderOrigin } from '../types.js';

const HEADER_ACTIONS: Record<string, HeaderOrigin['action']> = { setHeader: 'set', appendHeader: 'append', removeHeader: 'remove' };

/** Record who changed a header: the caller of the outermost response method (e.g. helmet, or the app). */
export function trackHeader(state: ResponseState, fn: AnyFunction, name: string, header: unknown): void {
  if (typeof header !== 'string' || state.headers === undefined) return;
  const key = header.toLowerCase();
  const low = describeCall(name, [header]);
  const call = state.depth > 0 && state.outerName !== name ? `res.${state.outerName}() -> ${low}` : low;
  const origin: HeaderOrigin = { action: HEADER_ACTIONS[name] ?? 'set', call };
  lazySite(origin, captureStack(outermost(state, fn), state.guard.stackLimit), state.guard.options.ignore);
  const list = state.headers.get(key);
  if (list === undefined) state.headers.set(key, [origin]);
  else list.push(origin);
}

/**
 * Give an origin its `site`, worked out when first read (a report, a lint, headerOrigins()): the
 * stack is formatted and its source maps read then, never on the header call itself.
 */
function lazySite(origin: HeaderOrigin, holder: StackHolder, ignore: readonly (string | RegExp)[]): void {
  let site: CallSite | null | undefined;
  Object.defineProperty(origin, 'site', {
    configurable: true,
    enumerable: true,
    get: () => (site === undefined ? (site = holderFrames(holder, { max: 1, ignore })[0] ?? null) : site) ?? undefined,
  });
}

/** One header change as a report line. */
export function originLine(origin: HeaderOrigin): string {
  return `      ${origin.call}${origin.site === undefined ? '' : ` at ${formatSite(origin.site)}`}`;
}

/** Report lines saying who changed a header before, for a late change to it. */
export function setBefore(state: ResponseState, header: unknown): string[] | undefined {
  if (state.headers === undefined || typeof header !== 'string') return undefined;
  const origins = state.headers.get(header.toLowerCase());
  if (origins === undefined || origins.length === 0) return undefined;
  return [`  ${header.toLowerCase()} was changed before by:`, ...origins.map(originLine)];
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
  for (const [name, origins] of headers ?? []) copy.set(name, origins.map(plainOrigin));
  return copy;
}

/** A copy of an origin as plain data, without `site` when it has none. */
function plainOrigin(origin: HeaderOrigin): HeaderOrigin {
  const copy: HeaderOrigin = { action: origin.action, call: origin.call };
  const site = origin.site;
  if (site !== undefined) copy.site = site;
  return copy;
}
