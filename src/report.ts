import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatSite } from './callsite.js';
import { codeFor } from './errors.js';
import type { CallSite, Violation, ViolationKind } from './types.js';
import type { ResolvedOptions } from './validations.js';

/** Methods whose first argument is a header (or cookie) name, which is safe to print (values never are). */
const NAME_ARGUMENT = new Set([
  'setHeader', 'appendHeader', 'removeHeader', 'set', 'header', 'append', 'cookie', 'clearCookie', 'vary',
]);
/** Methods whose first argument is a status code. */
const STATUS_ARGUMENT = new Set(['status', 'sendStatus', 'writeHead']);

/** How a call is shown in reports: `res.status(500)`, `res.setHeader('x-id')`, `res.json()`. Internal. */
export function describeCall(method: string, firstArgument?: unknown): string {
  if (STATUS_ARGUMENT.has(method) && typeof firstArgument === 'number') return `res.${method}(${firstArgument})`;
  if (NAME_ARGUMENT.has(method) && typeof firstArgument === 'string') {
    const name = firstArgument.length > 60 ? `${firstArgument.slice(0, 60)}…` : firstArgument;
    return `res.${method}(${JSON.stringify(name).replace(/^"|"$/g, "'")})`;
  }
  if (NAME_ARGUMENT.has(method) && firstArgument !== null && typeof firstArgument === 'object') return `res.${method}({…})`;
  return `res.${method}()`;
}

/** One earlier event of the response, as a report shows it (internal). */
export interface EarlierEvent {
  call: string;
  frames: CallSite[];
  at: number;
}

/** Everything a report is made from (internal). */
export interface ReportInput {
  kind: ViolationKind;
  /** Whether Node itself throws ERR_HTTP_HEADERS_SENT for this call. */
  nodeWouldThrow: boolean;
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
}

/** The request path without its query string, and the matched route when Express knows it. */
function requestFacts(req: IncomingMessage): { method: string; path: string; route?: string } {
  const expressReq = req as IncomingMessage & { originalUrl?: unknown; baseUrl?: unknown; route?: { path?: unknown } };
  const url = typeof expressReq.originalUrl === 'string' ? expressReq.originalUrl : req.url ?? '';
  const query = url.indexOf('?');
  const facts: { method: string; path: string; route?: string } = {
    method: req.method ?? 'GET',
    path: query === -1 ? url : url.slice(0, query),
  };
  const routePath = expressReq.route?.path;
  if (typeof routePath === 'string') {
    facts.route = (typeof expressReq.baseUrl === 'string' ? expressReq.baseUrl : '') + routePath;
  }
  return facts;
}

/** A one-line, bounded description of an error: `TypeError: x is undefined`. */
function describeError(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? `${error.name}: ${error.message}` : `a non-error value (${typeof error})`;
  } catch {
    text = 'an error that cannot be printed';
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** The first line of a report: what happened, in plain words. */
function headline(input: ReportInput): string {
  const { call } = input;
  switch (input.kind) {
    case 'late-status': {
      const sent = input.statusCode === undefined ? '' : ` the client got status ${input.statusCode}`;
      const never = typeof input.requestedStatus === 'number' ? ` and never sees ${input.requestedStatus}` : '';
      return `${call} was called after the response headers were sent:${sent}${never}.`;
    }
    case 'late-header':
      return `${call} was called after the response headers were sent (Node: "Cannot set headers after they are sent to the client").`;
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
  }
}

/** Frames as indented `at fn (file:line:column)` lines. */
function frameLines(frames: CallSite[]): string[] {
  if (frames.length === 0) return ['      (no stack was captured)'];
  return frames.map((site) => `      at ${site.function === undefined ? formatSite(site) : `${site.function} (${formatSite(site)})`}`);
}

/** `3 ms earlier` for the gap between an earlier event and the offending call. */
function ago(then: number, now: number): string {
  const ms = Math.max(0, now - then);
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms earlier`;
}

/** Build the violation (with its message) from what the guard saw. Internal. */
export function buildViolation(input: ReportInput): Violation {
  const facts = requestFacts(input.req);
  const lines = [`header-guard: ${headline(input)} [${codeFor(input.kind, input.nodeWouldThrow)}]`];
  lines.push(input.framesFromError === true ? `  error thrown (then passed on as ${input.call}):` : `  late call: ${input.call}`);
  lines.push(...frameLines(input.offendingFrames));
  const first = input.firstSent;
  const ended = input.ended;
  // One call often both sends and ends (res.json()): then it is shown once.
  const endedByFirst = ended !== undefined && ended === first;
  if (first !== undefined) {
    const label = input.stillSending === true ? 'still sending since' : endedByFirst ? 'sent and ended by' : 'first sent by';
    lines.push(`  ${label} ${first.call}, ${ago(first.at, input.at)}:`, ...frameLines(first.frames));
  } else {
    lines.push('  first sent: before header-guard saw this response (mount headerGuard() earlier to know where)');
  }
  if (ended !== undefined && !endedByFirst && input.kind === 'write-after-end') {
    lines.push(`  ended by ${ended.call}, ${ago(ended.at, input.at)}:`, ...frameLines(ended.frames));
  }
  lines.push(`  request: ${facts.method} ${facts.path}${facts.route === undefined ? '' : ` (route ${facts.route})`}`);

  const violation: Violation = {
    kind: input.kind,
    code: codeFor(input.kind, input.nodeWouldThrow),
    message: lines.join('\n'),
    call: input.call,
    offendingStack: input.offendingFrames,
    firstSentStack: first?.frames ?? [],
    method: facts.method,
    path: facts.path,
  };
  if (input.offendingFrames[0] !== undefined) violation.offending = input.offendingFrames[0];
  if (first !== undefined) {
    violation.firstSentCall = first.call;
    if (first.frames[0] !== undefined) violation.firstSent = first.frames[0];
    violation.elapsedMs = Math.max(0, input.at - first.at);
  }
  if (ended !== undefined) {
    violation.endedCall = ended.call;
    if (ended.frames[0] !== undefined) violation.ended = ended.frames[0];
    if (input.kind === 'write-after-end') violation.elapsedMs = Math.max(0, input.at - ended.at);
  }
  if (facts.route !== undefined) violation.route = facts.route;
  if (input.statusCode !== undefined) violation.statusCode = input.statusCode;
  if (input.error !== undefined) violation.error = input.error;
  return violation;
}

/** Write one line to the logger or stderr; a failing logger must not break the response. */
function writeLine(options: ResolvedOptions, level: 'warn' | 'error', message: string): void {
  try {
    const logger = options.logger;
    if (logger === undefined) process.stderr.write(`${message}\n`);
    else if (level === 'error' && logger.error !== undefined) logger.error(message);
    else logger.warn(message);
  } catch {
    // Nowhere left to report to; the response goes on.
  }
}

/** Failures of the user's onViolation we already told about, so one broken hook logs once. */
const reportedHookFailures = new WeakSet<object>();

/**
 * Hand a violation to `onViolation`, or log it when there is none and it is not thrown (a thrown
 * error is the report). Never throws: a throwing hook is logged once per guard. Internal.
 */
export function deliver(options: ResolvedOptions, violation: Violation, req: IncomingMessage, res: ServerResponse, thrown: boolean): void {
  const hook = options.onViolation;
  if (hook === undefined) {
    if (!thrown) writeLine(options, 'warn', violation.message);
    return;
  }
  try {
    hook(violation, req, res);
  } catch (error) {
    if (reportedHookFailures.has(options)) return;
    reportedHookFailures.add(options);
    writeLine(options, 'error', `header-guard: onViolation threw (${describeError(error)}); this is reported once. The violation was:\n${violation.message}`);
  }
}
