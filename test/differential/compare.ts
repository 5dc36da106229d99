// The differential fuzzer's checks: which steps of a program were late (from what Node did, as
// the handler saw it), log mode against the no-guard baseline, containment's contract, and the
// reports every late call must get. Each check returns its problems as short lines; none is a pass.
import type { OpRecord } from './interpreter.js';
import type { Op, Program } from './program.js';
import type { Observation } from './worker.js';

/** Steps that change headers: Node throws ERR_HTTP_HEADERS_SENT for them once the headers are out. */
const HEADER_OPS = new Set(['setHeader', 'appendHeader', 'removeHeader', 'set', 'append', 'cookie', 'type', 'location', 'format', 'writeHead']);
/** Body calls: a second one after the headers went out throws in Node (or fails in send). */
const BODY_OPS = new Set(['send', 'sendObject', 'json', 'jsonp', 'sendStatus', 'redirect', 'sendFile']);
/** Body calls that fail later, in their callback, rather than throw: nothing to contain. */
const ASYNC_BODY_OPS = new Set(['sendFile']);
/** Steps whose first flush is made from the interpreter's own line, so the report can name it. */
const DIRECT_SENDERS = new Set(['writeHead', 'flushHeaders', 'write', 'end', 'send', 'sendObject', 'json', 'jsonp', 'sendStatus', 'redirect', 'format']);
/** Every kind a late call can be reported as: a step that ran a response hook may get any of them (the hook's own late calls). */
const LATE_KINDS = ['double-send', 'late-header', 'late-status', 'write-after-end', 'error-after-send'];
/** What a contained call returns instead of throwing. */
const RETURNS_UNDEFINED = new Set(['removeHeader', 'redirect', 'sendFile']);
/** Kinds whose report may be held until the end of the synchronous run (a chain's earlier link). */
const HELD_KINDS = new Set(['late-status', 'late-header']);
/** Codes of Node's complaints about late calls. */
const LATE_CODES = new Set(['ERR_HTTP_HEADERS_SENT', 'ERR_STREAM_WRITE_AFTER_END']);

/** A late step: which, and the kinds of report it may get. */
export interface LateStep {
  i: number;
  kinds: string[];
  /** Node throws for it synchronously (containment's business), or it is a write after end. */
  containable: 'throw' | 'write' | false;
}

function stepOp(program: Program, record: OpRecord): Op {
  return program.steps[record.i]!.op;
}

/** The late steps of a run, from the response's state the handler saw before each step. */
export function lateSteps(program: Program, observation: Observation): LateStep[] {
  const late: LateStep[] = [];
  // The status that went out: a later status equal to it changes nothing the client sees, so it
  // is not late (the guard compares with it too).
  const sentStatus = observation.ops.find((record) => record.before.headersSent)?.before.statusCode;
  for (const record of observation.ops) {
    const op = stepOp(program, record);
    const { headersSent, writableEnded } = record.before;
    const statusCode = sentStatus;
    if (record.hooked === true && program.hook?.does !== 'transform') {
      // The hook ran in this step and did something else than pass the body on: the step is late
      // when the headers were out before it (its wrapper, or the hook's own calls, are the late
      // calls), except a hook's throw that never reaches Express (from a timer or an immediate, or
      // a rejected promise on Express 4).
      // The step calls the replaced method itself (res.send(object) is res.send), not through a guarded body call.
      const direct = op.op === program.hook?.on || (op.op === 'sendObject' && program.hook?.on === 'send');
      const thrownUnrouted = program.hook?.does === 'throw' && direct
        && !observation.errorsSeen.some((seen) => seen.message === `program throw at step ${record.i}`);
      // A hook that answers itself sets a header (type), which Node throws for once the headers
      // are out: containment contains it, and the step returns what its call returns.
      if (headersSent && !thrownUnrouted) late.push({ i: record.i, kinds: LATE_KINDS, containable: program.hook?.does === 'answer' ? 'throw' : false });
    } else if (HEADER_OPS.has(op.op) && headersSent) late.push({ i: record.i, kinds: ['late-header'], containable: 'throw' });
    else if ((op.op === 'status' || op.op === 'statusCode') && headersSent && op.code !== statusCode) late.push({ i: record.i, kinds: ['late-status'], containable: false });
    else if (BODY_OPS.has(op.op) && headersSent) late.push({ i: record.i, kinds: ['double-send', 'late-header'], containable: ASYNC_BODY_OPS.has(op.op) ? false : 'throw' });
    else if (op.op === 'write' && writableEnded) late.push({ i: record.i, kinds: ['write-after-end'], containable: 'write' });
    else if (op.op === 'end' && op.data && writableEnded) late.push({ i: record.i, kinds: ['write-after-end'], containable: 'write' });
    else if (op.op === 'next' && headersSent) late.push({ i: record.i, kinds: [op.err ? 'error-after-send' : 'next-after-send'], containable: false });
    else if (op.op === 'throw' && observation.errorsSeen.some((seen) => seen.headersSent && seen.message === `program throw at step ${record.i}`)) {
      late.push({ i: record.i, kinds: ['error-after-send'], containable: false });
    }
  }
  return late;
}

/** Every error code the handler, its callbacks, the error handler and the process saw. */
function codesSeen(observation: Observation): string[] {
  const codes: Array<string | null | undefined> = [
    ...observation.ops.flatMap((record) => [record.threw?.code, ...record.callbacks.map((callback) => callback.error)]),
    ...observation.errorsSeen.map((error) => error.code),
    ...observation.uncaught.map((error) => error.code),
    ...observation.rejections.map((error) => error.code),
  ];
  return codes.filter((code): code is string => typeof code === 'string');
}

/**
 * A correct program: in the baseline nothing was late, no late-call error showed up anywhere, no
 * error reached the error handler after the headers, and callbacks got nothing but a missing file.
 */
export function isCorrect(program: Program, baseline: Observation): boolean {
  if (racy(program, baseline)) return false;
  if (lateSteps(program, baseline).length > 0) return false;
  if (codesSeen(baseline).some((code) => LATE_CODES.has(code))) return false;
  if (baseline.errorsSeen.some((error) => error.headersSent || error.writableEnded)) return false;
  // An error thrown once the response is answered is an error after the send, whether or not the
  // router sees it (Express 4 does not catch a rejected promise): a report is allowed, not required.
  if (baseline.ops.some((record) => (stepOp(program, record).op === 'throw' || (record.hooked === true && program.hook?.does === 'throw')) && record.before.headersSent)) return false;
  // Two answers are a bug even where Node cannot tell (the client is gone, a body call on a destroyed response).
  if (baseline.ops.filter((record) => BODY_OPS.has(record.op) || record.op === 'format').length > 1) return false;
  // So is an answer after Express's own: next(err) once the client is gone lets its final
  // handler answer (and end) at once, and a body call after that writes after the end.
  if (baseline.ops.some((record) => (BODY_OPS.has(record.op) || record.op === 'format') && record.before.writableEnded)) return false;
  // A pipe into a response someone else ended writes after its end when the stream gets to it,
  // which the handler cannot see: no report is required for it, and none is forbidden.
  if (baseline.ops.some((record) => record.op === 'pipe') && baseline.final.writableEnded) return false;
  return baseline.ops.every((record) => record.callbacks.every((callback) => callback.error === null || callback.error === 'ENOENT'));
}

/** The observation without the guard's own output, for comparing with the baseline. */
function visible(observation: Observation, program?: Program): unknown {
  const { violations: _violations, ...rest } = observation;
  if (program === undefined) return rest;
  // Once a response is whole for the client (finished, or its headers out on a bodiless one), the
  // client may close the connection at any moment: whether a later step finds the response
  // destroyed is the client's timing, not something the guard can change.
  const bodiless = (statusCode: number) => program.method === 'HEAD' || statusCode === 204 || statusCode === 304;
  const whole = (state: { writableFinished: boolean; headersSent: boolean; statusCode: number }) => state.writableFinished || (state.headersSent && bodiless(state.statusCode));
  const ops = rest.ops.map((record) => {
    if (!whole(record.before)) return record;
    const { destroyed: _destroyed, ...before } = record.before;
    // What a write returns and tells its callback then depends on that same timing too.
    const op = program.steps[record.i]?.op.op;
    const timed = op === 'write' || op === 'end' ? { returned: undefined, callbacks: [] } : {};
    return { ...record, ...timed, before: before as typeof record.before };
  });
  const final = rest.final !== undefined && whole(rest.final) ? { ...rest.final, destroyed: undefined } : rest.final;
  return { ...rest, ops, final };
}

/** The paths where two JSON values differ, with both values, at most `max`. */
export function differences(a: unknown, b: unknown, path = '', max = 6, out: string[] = []): string[] {
  if (out.length >= max) return out;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) differences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`, max, out);
    return out;
  }
  if (a !== b) out.push(`${path.slice(1)}: ${short(a)} without the guard, ${short(b)} with it`);
  return out;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * A sendFile after the headers went out, or after the client went away, races in Express itself
 * once the response is finished in on-finished's sense (ended, or its socket no longer writable): its stat against two
 * setImmediate hops gives "headers sent", ENOENT or ECONNABORTED at random. What follows such a
 * call is not compared; the call itself is, and its report.
 */
export function racy(program: Program, observation: Observation): boolean {
  return racyFrom(program, observation) !== undefined;
}

/** How many steps, from the first, are free of that race (the racy sendFile included); undefined when none is racy. */
function racyFrom(program: Program, observation: Observation): number | undefined {
  const index = observation.ops.findIndex((record) => {
    const op = stepOp(program, record);
    // A sendFile once the response is out or gone: its stat races on-finished. A plain next() on
    // an unanswered response: Express's final handler answers 404 once the request has ended,
    // racing whatever the program does next (a few µs more or less of work decide it).
    return (op.op === 'sendFile' && (record.before.headersSent || record.before.destroyed))
      || (op.op === 'next' && !op.err && !record.before.headersSent);
  });
  return index === -1 ? undefined : index + 1;
}

/** Log mode: everything the app and the client see is what they see without the guard. */
export function checkIdentical(program: Program, baseline: Observation, guarded: Observation): string[] {
  const upTo = racyFrom(program, baseline);
  if (upTo !== undefined) {
    const strip = (ops: OpRecord[]): unknown => ops.slice(0, upTo).map(({ callbacks: _callbacks, ...rest }) => rest);
    return differences(strip(baseline.ops), strip(guarded.ops), 'ops');
  }
  return differences(visible(baseline, program), visible(guarded, program));
}

/** The reports: one naming the user's file for every late step; none for a correct program. */
export function checkReports(program: Program, baseline: Observation, guarded: Observation): string[] {
  const problems: string[] = [];
  const violations = guarded.violations.filter((violation) => violation.kind !== 'hang');
  // A response hook's next(err) that the error handler got before anything was sent came from a
  // body call that had not answered: never an error after the send, whatever else the program does.
  for (const violation of violations) {
    if (violation.kind !== 'error-after-send' || violation.error?.startsWith('hook next(err)') !== true) continue;
    if (guarded.errorsSeen.some((seen) => seen.message === violation.error && !seen.headersSent)) problems.push(`${violation.error}: reached the error handler before the headers went out, and was reported as error-after-send`);
  }
  if (isCorrect(program, baseline)) {
    if (violations.length > 0) problems.push(`a correct program got reports: ${violations.map((violation) => `${violation.kind} ${violation.call}`).join(', ')}`);
    return problems;
  }
  const firstFlush = guarded.ops.find((record) => record.flushed);
  for (const late of lateSteps(program, guarded)) {
    // next-after-send is reported once per response. A late status or header that may begin a
    // chained call is delivered at the end of the synchronous run (src/report/chain.ts), when a
    // later sync step may be running.
    const mine = violations.filter((violation) => (violation.op === late.i || (late.kinds[0] === 'next-after-send' && violation.op < late.i)
      || (HELD_KINDS.has(violation.kind) && violation.op > late.i)) && late.kinds.includes(violation.kind));
    if (mine.length === 0) {
      problems.push(`step ${late.i} (${program.steps[late.i]!.op.op}) was late (${late.kinds.join('/')}) and got no report${violations.length ? `; got ${violations.map((v) => `${v.kind}@${v.op}`).join(', ')}` : ''}`);
      continue;
    }
    if (!mine.some((violation) => violation.offendingHere)) problems.push(`step ${late.i}: no report names the late call in the program's file`);
    const direct = firstFlush !== undefined && firstFlush.i < late.i && DIRECT_SENDERS.has(firstFlush.op);
    if (direct && !mine.some((violation) => violation.hasFirstSent && violation.firstSentHere)) {
      problems.push(`step ${late.i}: no report names the first send (step ${firstFlush.i}, ${firstFlush.op}) in the program's file`);
    }
  }
  return problems;
}

/**
 * Containment's contract (README, "Containment"): a correct program is byte-identical to no
 * guard; a call Node throws ERR_HTTP_HEADERS_SENT for does not throw and returns the method's
 * usual value; a write after end runs as Node runs it (its callback gets ERR_STREAM_WRITE_AFTER_END
 * later, unless the response was destroyed, when Node calls none) and its 'error' event never
 * escapes; everything before the first contained call is as without the guard; the client never
 * hangs: a response that had not ended, and that the app does not end in the same turn of the
 * event loop, is cut; one that had is what the app sent (where Express's final handler, without
 * the guard, would have closed its connection anyway).
 */
export function checkContained(program: Program, baseline: Observation, contained: Observation): string[] {
  if (isCorrect(program, baseline)) return differences(visible(baseline, program), visible(contained, program));
  const problems: string[] = [];
  const late = lateSteps(program, contained).filter((step) => step.containable !== false);
  for (const step of late) {
    const record = contained.ops.find((op) => op.i === step.i)!;
    const op = stepOp(program, record);
    if (record.threw !== undefined) {
      problems.push(`step ${step.i} (${op.op}) threw ${record.threw.code ?? record.threw.name}: not contained`);
      continue;
    }
    const expected = step.containable === 'write' ? (op.op === 'write' ? 'false' : 'res') : RETURNS_UNDEFINED.has(op.op) ? 'undefined' : 'res';
    if (record.returned !== expected) problems.push(`step ${step.i} (${op.op}) returned ${record.returned}, expected ${expected}`);
    if (step.containable === 'write' && 'cb' in op && op.cb && !record.before.destroyed) {
      const calls = record.callbacks;
      if (calls.length !== 1 || calls[0]!.error !== 'ERR_STREAM_WRITE_AFTER_END' || calls[0]!.sync) {
        problems.push(`step ${step.i} (${op.op}): callback ${JSON.stringify(calls)}, expected one asynchronous call with ERR_STREAM_WRITE_AFTER_END`);
      }
    }
  }
  const escaped = [...contained.uncaught, ...contained.rejections, ...contained.errorsSeen].filter((error) => error.code !== undefined && LATE_CODES.has(error.code));
  if (escaped.length > 0) problems.push(`late-call errors escaped: ${escaped.map((error) => error.code).join(', ')}`);
  const first = late[0];
  const prefix = Math.min(first === undefined ? contained.ops.length : contained.ops.findIndex((op) => op.i === first.i), racyFrom(program, baseline) ?? Infinity);
  const strip = (ops: OpRecord[]): unknown => ops.slice(0, prefix).map(({ callbacks: _callbacks, ...rest }) => rest);
  problems.push(...differences(strip(baseline.ops), strip(contained.ops), 'ops before the first contained call', 3));
  if (first !== undefined && contained.client.fate !== 'client-abort') {
    const before = contained.ops.find((op) => op.i === first.i)!.before;
    // A response with no body (HEAD, 204, 304) is complete once its headers are in: no cut can show.
    const bodiless = program.method === 'HEAD' || before.statusCode === 204 || before.statusCode === 304;
    if (first.containable === 'throw' && !before.writableEnded && !bodiless) {
      // The guard closes it at the end of that turn of the event loop, unless the app ended it by then.
      const endedLater = contained.final.writableEnded;
      if (!endedLater && contained.client.fate !== 'reset' && contained.client.fate !== 'cut') problems.push(`contained step ${first.i} on an unended response that the app never ended: the client saw ${contained.client.fate}, expected the connection cut`);
    } else if (baseline.client.fate === 'complete' && contained.client.fate === 'complete' && !racy(program, baseline)) {
      // After a contained call the handler goes on where, without the guard, it stopped: a later
      // step may end the connection (next(err) to Express's final handler); what the client did
      // receive whole must be what it receives without the guard.
      problems.push(...differences(baseline.client, contained.client, 'client', 3));
    }
  }
  if (contained.client.fate === 'timeout' && baseline.client.fate !== 'timeout') problems.push('the client hung, and did not without the guard');
  return problems;
}
