/**
 * Building a report: how a call is described (never with header values unless asked), the
 * request facts (method, path without its query, matched route), and the Violation with its
 * human-readable message naming the late call and the earlier send. Pure: no I/O but reading a
 * source file for a code frame.
 */
import type { IncomingMessage } from 'node:http';
import { formatSite } from './callsite.js';
import { codeFrame } from './codeframe.js';
import { codeFor, isError } from '../errors.js';
import type { CallSite, ChainedCall, DuplicateHeaderViolation, HangViolation, Violation, ViolationBase, ViolationKind } from '../types.js';

/** Methods whose first argument is a header (or cookie) name, which is safe to print (values never are). */
const NAME_ARGUMENT = new Set([
  'setHeader', 'appendHeader', 'removeHeader', 'set', 'header', 'append', 'cookie', 'clearCookie', 'vary',
]);
/** Methods whose first argument is a status code. */
const STATUS_ARGUMENT = new Set(['status', 'sendStatus', 'writeHead']);

/** A value for a report that asked for values: bounded, never throws. */
function showValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  } catch {
    text = '[unprintable]';
  }
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/**
 * How a call is shown in reports: `res.status(500)`, `res.setHeader('x-id')`, `res.json()`.
 * Header and cookie names are shown, values only with `includeValues`. A `method` that is not a
 * bare name (an adapter's `reply.send()`, `ctx.body =`) is already the call as written. Internal.
 */
export function describeCall(method: string, args: ArrayLike<unknown> = [], includeValues = false): string {
  // A call already written out by a framework adapter (`ctx.body =`, `reply.send()`): shown as is.
  if (!/^[A-Za-z]+$/.test(method)) return method;
  const first = args[0];
  if (STATUS_ARGUMENT.has(method) && typeof first === 'number') return `res.${method}(${first})`;
  if (NAME_ARGUMENT.has(method)) {
    let name: string | undefined;
    if (typeof first === 'string') name = `'${first.length > 60 ? `${first.slice(0, 60)}…` : first}'`;
    else if (first !== null && typeof first === 'object') name = includeValues ? showValue(first) : '{…}';
    if (name === undefined) return `res.${method}()`;
    return includeValues && args.length > 1 && typeof first === 'string' ? `res.${method}(${name}, ${showValue(args[1])})` : `res.${method}(${name})`;
  }
  if (includeValues && args.length > 0 && typeof first !== 'function') return `res.${method}(${showValue(first)})`;
  return `res.${method}()`;
}

/** One earlier event of the response, as a report shows it (internal). */
export interface EarlierEvent {
  call: string;
  frames: CallSite[];
  at: number;
  /** Why there are no frames, when the site was not captured (capture option). */
  notCaptured?: string;
}

/** Everything a report is made from (internal). */
export interface ReportInput {
  kind: ViolationKind;
  /**
   * Whether Node itself throws ERR_HTTP_HEADERS_SENT for this call; undefined when that is up to
   * a wrapper assigned to the response, which may drop the call (Next.js's `setHeader` does).
   */
  nodeWouldThrow: boolean | undefined;
  call: string;
  offendingFrames: CallSite[];
  /** The offending frames come from the error's own stack (error-after-send). */
  framesFromError?: boolean;
  firstSent?: EarlierEvent;
  /** The first send is a body call still in progress (headers not sent yet). */
  stillSending?: boolean;
  /** The end; the same object as `firstSent` when one call did both. */
  ended?: EarlierEvent;
  statusCode?: number;
  requestedStatus?: unknown;
  error?: unknown;
  at: number;
  req: IncomingMessage;
  includeValues: boolean;
  /** Show the source line under the late call and the first send. */
  codeFrame: boolean;
  /** The response's events, in order, in ms since the guard saw it (throw mode, DEBUG). */
  timeline?: ReadonlyArray<{ at: number; text: string }>;
  /** The first line's sentence, for the kinds the guard words itself (hang, lint). */
  headline?: string;
  /** The label of the offending frames, instead of `late call: <call>`. */
  offendingLabel?: string;
  /** More lines before the request line: who set a header before, each setter of a duplicate. */
  notes?: string[];
  /** Earlier links of the same statement that were late too, merged into this report (report/chain.ts). */
  chained?: ChainedCall[];
  /** Lines adapters added to this response's reports (annotate.ts), before the request line. */
  annotations?: string[];
  /** The message is an outgoing request, not a server response (state.ts Subject). */
  subject?: { headers: string; requestLine: string };
}

/** The request method, its path (without the query string unless asked), and the matched route when Express knows it (internal). */
export function requestFacts(req: IncomingMessage, includeValues: boolean): { method: string; path: string; route?: string } {
  const expressReq = req as IncomingMessage & { originalUrl?: unknown; baseUrl?: unknown; route?: { path?: unknown } };
  // A middleware may leave a non-string url behind: the report then names no path, and never throws.
  const url = typeof expressReq.originalUrl === 'string' ? expressReq.originalUrl : typeof req.url === 'string' ? req.url : '';
  const query = includeValues ? -1 : url.indexOf('?');
  const facts: { method: string; path: string; route?: string } = {
    method: typeof req.method === 'string' ? req.method : 'GET',
    path: query === -1 ? url : url.slice(0, query),
  };
  const routePath = expressReq.route?.path;
  if (typeof routePath === 'string') {
    facts.route = (typeof expressReq.baseUrl === 'string' ? expressReq.baseUrl : '') + routePath;
  }
  return facts;
}

/** A one-line, bounded description of an error: `TypeError: x is undefined`. Internal. */
export function describeError(error: unknown): string {
  let text: string;
  try {
    text = isError(error) ? `${error.name}: ${error.message}` : `a non-error value (${typeof error})`;
  } catch {
    text = 'an error that cannot be printed';
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** The first line of a report: what happened, in plain words. */
function headline(input: ReportInput): string {
  const { call } = input;
  // An adapter words its own reports (Fastify: "reached Fastify", a returned value).
  if (input.headline !== undefined) return input.headline;
  const headers = input.subject?.headers ?? 'the response headers';
  switch (input.kind) {
    case 'late-status': {
      const sent = input.statusCode === undefined ? '' : ` the client got status ${input.statusCode}`;
      const never = typeof input.requestedStatus === 'number' ? ` and never sees ${input.requestedStatus}` : '';
      return `${call} was called after ${headers} were sent:${sent}${never}.`;
    }
    case 'late-header':
      // Node's words only where Node throws them: Koa's and Fastify's own setters ignore a late call.
      if (input.nodeWouldThrow === undefined) return `${call} was called after ${headers} were sent: the client never sees it.`;
      return `${call} was called after ${headers} were sent${input.nodeWouldThrow ? ' (Node: "Cannot set headers after they are sent to the client")' : ': it has no effect'}.`;
    case 'double-send':
      return input.stillSending === true
        ? `${call} was called while ${input.firstSent?.call ?? 'an earlier call'} is still sending the response.`
        : `${call} was called after the response was already sent${input.firstSent ? ` by ${input.firstSent.call}` : ''}.`;
    case 'write-after-end':
      return `${call} was called after the response ended: its data never reaches the client.`;
    case 'next-after-send':
      return `${call} was called after the response was sent: Express goes on to the next handler for a request that is already answered.`;
    case 'error-after-send':
      return `an error reached Express after the response was sent (${describeError(input.error)}): the client already has its answer, so Express can only close the connection.`;
    case 'hang':
    case 'duplicate-header':
    case 'body-on-no-content':
    case 'content-length-mismatch':
      return input.headline ?? `${input.kind}.`;
  }
}

/** Frames as indented `at fn (file:line:column)` lines. */
function frameLines(frames: CallSite[], notCaptured?: string): string[] {
  if (notCaptured !== undefined) return [`      (${notCaptured})`];
  if (frames.length === 0) return ['      (no stack was captured)'];
  return frames.map((site) => `      at ${site.function === undefined ? formatSite(site) : `${site.function} (${formatSite(site)})`}`);
}

/** The line a merged earlier link of the statement gets: what it would have changed, which the client never saw. */
function chainedLine(link: ChainedCall, statusSent: number | undefined): string {
  const effect = link.kind === 'late-status'
    ? `the client ${statusSent === undefined ? 'got the status sent before' : `got status ${statusSent}`} and never sees ${link.requestedStatus ?? 'the new one'}`
    : 'the client never sees this header';
  return `  earlier in the same statement, also late: ${link.call} at ${formatSite(link.offending)} (${effect})`;
}

/** `3 ms earlier` for the gap between an earlier event and the offending call. */
function ago(then: number, now: number): string {
  const ms = Math.max(0, now - then);
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms earlier`;
}

/** Build the violation (with its message) from what the guard saw. Internal. */
export function buildViolation(input: ReportInput): Violation {
  const facts = requestFacts(input.req, input.includeValues);
  const lines = [`header-guard: ${headline(input)} [${codeFor(input.kind, input.nodeWouldThrow === true)}]`];
  const withCode = (frames: CallSite[]): string[] => (input.codeFrame && frames[0] !== undefined ? codeFrame(frames[0], '      ') : []);
  lines.push(input.offendingLabel ?? (input.framesFromError === true ? `  error thrown (then passed on as ${input.call}):` : `  late call: ${input.call}`));
  lines.push(...frameLines(input.offendingFrames), ...withCode(input.offendingFrames));
  for (const link of input.chained ?? []) lines.push(chainedLine(link, input.statusCode));
  const first = input.firstSent;
  const ended = input.ended;
  // One call often both sends and ends (res.json()): then it is shown once.
  const endedByFirst = ended !== undefined && ended === first;
  if (first !== undefined) {
    const label = input.subject !== undefined ? `${input.subject.headers} were sent by` : input.stillSending === true ? 'still sending since' : endedByFirst ? 'sent and ended by' : 'first sent by';
    lines.push(`  ${label} ${first.call}, ${ago(first.at, input.at)}:`, ...frameLines(first.frames, first.notCaptured), ...withCode(first.frames));
  } else if (input.kind !== 'hang' && input.kind !== 'duplicate-header') {
    lines.push('  first sent: before header-guard saw this response (mount headerGuard() earlier to know where)');
  }
  if (ended !== undefined && !endedByFirst && input.kind === 'write-after-end') {
    lines.push(`  ended by ${ended.call}, ${ago(ended.at, input.at)}:`, ...frameLines(ended.frames, ended.notCaptured));
  }
  if (input.notes !== undefined) lines.push(...input.notes);
  if (input.annotations !== undefined) lines.push(...input.annotations);
  lines.push(input.subject !== undefined ? `  ${input.subject.requestLine}` : `  request: ${facts.method} ${facts.path}${facts.route === undefined ? '' : ` (route ${facts.route})`}`);
  if (input.timeline !== undefined && input.timeline.length > 0) {
    lines.push('  timeline (ms since header-guard saw the response):');
    for (const event of input.timeline) lines.push(`    ${`+${event.at.toFixed(1)}`.padStart(8)}  ${event.text}`);
  }

  const base: ViolationBase = {
    message: lines.join('\n'),
    call: input.call,
    offendingStack: input.offendingFrames,
    firstSentStack: first?.frames ?? [],
    method: facts.method,
    path: facts.path,
  };
  if (first !== undefined) {
    base.firstSentCall = first.call;
    if (first.frames[0] !== undefined) base.firstSent = first.frames[0];
    base.elapsedMs = Math.max(0, input.at - first.at);
  }
  if (ended !== undefined) {
    base.endedCall = ended.call;
    if (ended.frames[0] !== undefined) base.ended = ended.frames[0];
    if (input.kind === 'write-after-end') base.elapsedMs = Math.max(0, input.at - ended.at);
  }
  if (facts.route !== undefined) base.route = facts.route;
  if (input.statusCode !== undefined) base.statusCode = input.statusCode;
  return withKind(base, input);
}

/** The `chained` field of a merged report, when it has merged links. */
function chainedOf(input: ReportInput): { chained?: ChainedCall[] } {
  return input.chained === undefined || input.chained.length === 0 ? {} : { chained: input.chained };
}

/** Where no stack could be captured at all (a hostile prepareStackTrace): said plainly. */
const UNKNOWN_SITE: CallSite = { file: '<unknown>', line: 0, column: 0 };

/** The violation of the input's kind: the common fields and exactly the ones its kind has. */
function withKind(base: ViolationBase, input: ReportInput): Violation {
  const offending = input.offendingFrames[0];
  const late = { ...base, offending: offending ?? UNKNOWN_SITE };
  switch (input.kind) {
    case 'late-status':
      return { ...late, kind: input.kind, code: 'ERR_HEADER_GUARD_LATE_STATUS', requestedStatus: typeof input.requestedStatus === 'number' ? input.requestedStatus : NaN };
    case 'late-header':
      return { ...late, kind: input.kind, code: 'ERR_HTTP_HEADERS_SENT' };
    case 'double-send':
      return { ...late, ...chainedOf(input), kind: input.kind, code: input.nodeWouldThrow === true ? 'ERR_HTTP_HEADERS_SENT' : 'ERR_HEADER_GUARD_DOUBLE_SEND' };
    case 'write-after-end':
      return { ...late, ...chainedOf(input), kind: input.kind, code: 'ERR_HEADER_GUARD_WRITE_AFTER_END' };
    case 'next-after-send':
      return { ...late, kind: input.kind, code: 'ERR_HEADER_GUARD_NEXT_AFTER_SEND' };
    case 'error-after-send':
      return { ...late, kind: input.kind, code: 'ERR_HEADER_GUARD_ERROR_AFTER_SEND', error: input.error };
    case 'body-on-no-content':
      return { ...late, kind: input.kind, code: 'ERR_HEADER_GUARD_BODY_ON_NO_CONTENT' };
    case 'content-length-mismatch':
      return { ...late, kind: input.kind, code: 'ERR_HEADER_GUARD_CONTENT_LENGTH_MISMATCH' };
    case 'hang': {
      const hang: HangViolation = { ...base, kind: input.kind, code: 'ERR_HEADER_GUARD_HANG' };
      if (offending !== undefined) hang.lastProgress = offending;
      return hang;
    }
    case 'duplicate-header': {
      const duplicate: DuplicateHeaderViolation = { ...base, kind: input.kind, code: 'ERR_HEADER_GUARD_DUPLICATE_HEADER' };
      if (offending !== undefined) duplicate.offending = offending;
      return duplicate;
    }
  }
}
