// The differential fuzzer's handler: runs a generated program's steps on a real response and
// records what the handler sees (the response's state before each step, what each call returned
// or threw, each callback, each error that reaches the app's error handler). Every response
// operation is made from this file, each on its own line: a report "names the user's file" when
// its site is INTERPRETER_FILE.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Op, Program } from './program.js';

export const INTERPRETER_FILE = __filename;

const EXISTING_FILE = require.resolve('../fixtures/hello.txt');
const MISSING_FILE = EXISTING_FILE.replace(/hello\.txt$/, 'no-such-file.txt');

/** What the handler can tell about a thrown or passed error. */
export interface ErrorFacts {
  name: string;
  code?: string;
  message: string;
}

/** The response as the handler sees it just before a step. */
export interface Before {
  headersSent: boolean;
  writableEnded: boolean;
  writableFinished: boolean;
  /** The response was destroyed (the client went away). */
  destroyed: boolean;
  statusCode: number;
}

/** One step as the handler lived it. */
export interface OpRecord {
  i: number;
  op: string;
  before: Before;
  /** What the call returned: `res`, `true`, `false`, `undefined`, or a type name. */
  returned?: string;
  threw?: ErrorFacts;
  /** Whether headersSent went from false to true during the call itself. */
  flushed: boolean;
  /** The callbacks the call was given, as they were called: with which error, and whether before the call returned. */
  callbacks: Array<{ error: string | null; sync: boolean }>;
  /** The program's response hook ran during this call. */
  hooked?: boolean;
}

/** Everything one run of a program records; the worker fills in the client's side. */
export interface ProgramRun {
  program: Program;
  ops: OpRecord[];
  /** Errors that reached the app's error handler (Express), with headersSent at that moment. */
  errorsSeen: Array<ErrorFacts & { headersSent: boolean; writableEnded: boolean }>;
  /** Errors the piped stream emitted (the program listens for them). */
  streamErrors: string[];
  /** The step running now, or the last one that ran. */
  currentOp: number;
  /** Resolved when the program's chain of steps has finished or stopped at a throw. */
  done: Promise<void>;
  finish: () => void;
  /** Set by the worker: cut the client's connection, resolve once the server saw it close. */
  abortClient: () => Promise<void>;
  /** Async work later steps wait for before they run (a sendFile in flight, a client abort). */
  gate: Promise<void> | undefined;
  /** Called when something a gate may wait for happens (an error reached the error handler). */
  poke: () => void;
}

export function newRun(program: Program): ProgramRun {
  let finish = (): void => undefined;
  const done = new Promise<void>((resolve) => { finish = resolve; });
  return { program, ops: [], errorsSeen: [], streamErrors: [], currentOp: -1, done, finish, abortClient: async () => undefined, gate: undefined, poke: () => undefined };
}

export function errorFacts(error: unknown): ErrorFacts {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.constructor.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
  }
  return { name: typeof error, message: String(error) };
}

function returnedAs(res: ServerResponse, value: unknown): string {
  if (value === res) return 'res';
  if (value === undefined || typeof value === 'boolean') return String(value);
  return typeof value;
}

/** Express's response (on node:http only Node's methods are generated). */
type Res = import('express').Response;
type Next = (err?: unknown) => void;

/** Make one call of step `i`. Each operation is on its own line of this file. */
function call(run: ProgramRun, i: number, op: Op, req: IncomingMessage, res: Res, next: Next | undefined, callback: (err?: unknown) => void): unknown {
  switch (op.op) {
    case 'status': return res.status(op.code);
    case 'statusCode': res.statusCode = op.code; return undefined;
    case 'sendStatus': return res.sendStatus(op.code);
    case 'setHeader': return res.setHeader(op.name, op.name === 'x-a' ? 'a' : 'text/plain');
    case 'appendHeader': return res.appendHeader(op.name, op.name === 'x-a' ? 'b' : 'text/html');
    case 'removeHeader': return res.removeHeader(op.name);
    case 'set': return res.set('x-set', 's');
    case 'append': return res.append('x-append', 'p');
    case 'cookie': return res.cookie('sid', 'c');
    case 'type': return res.type('html');
    case 'location': return res.location('/there');
    case 'writeHead': return writeHead(res, op);
    case 'flushHeaders': return res.flushHeaders();
    case 'write': return op.cb ? res.write('w', callback) : res.write('w');
    case 'end': return op.data ? (op.cb ? res.end('e', callback) : res.end('e')) : (op.cb ? res.end(callback) : res.end());
    case 'send': return res.send(`send ${i}`);
    case 'sendObject': return res.send({ sent: i });
    case 'json': return res.json({ op: i });
    case 'jsonp': return res.jsonp({ op: i });
    case 'redirect': return res.redirect('/elsewhere');
    case 'format': return res.format({ 'text/plain': () => res.send(`format ${i}`), default: () => res.status(406).send('none') });
    case 'sendFile': return sendFile(run, res, op, callback);
    case 'next': return op.err ? next?.(new Error(`program next(err) at step ${i}`)) : next?.();
    case 'throw': throw new Error(`program throw at step ${i}`);
    case 'pipe': return pipe(run, res);
    case 'abort': run.gate = run.abortClient(); return undefined;
  }
}

function writeHead(res: Res, op: Extract<Op, { op: 'writeHead' }>): unknown {
  switch (op.headers) {
    case 'none': return res.writeHead(op.code);
    case 'object': return res.writeHead(op.code, { 'x-w': '1', 'content-type': 'text/plain' });
    case 'array': return res.writeHead(op.code, [['x-w', '1'], ['content-type', 'text/plain']] as unknown as string[]);
    case 'raw': return res.writeHead(op.code, ['x-w', '1', 'content-type', 'text/plain']);
  }
}

/** sendFile; later async steps wait until it calls back, ends the response, or fails to the error handler. */
function sendFile(run: ProgramRun, res: Res, op: Extract<Op, { op: 'sendFile' }>, callback: (err?: unknown) => void): unknown {
  let settle = (): void => undefined;
  const gate = new Promise<void>((resolve) => { settle = resolve; });
  const timer = setTimeout(settle, 150);
  const settleNow = (): void => { clearTimeout(timer); settle(); };
  res.once('finish', settleNow);
  res.once('close', settleNow);
  run.poke = settleNow;
  run.gate = gate;
  const path = op.exists ? EXISTING_FILE : MISSING_FILE;
  if (!op.cb) return res.sendFile(path);
  return res.sendFile(path, (err?: unknown) => { callback(err); settleNow(); });
}

/** A stream that sends one chunk, then fails: pipe() stops, leaving the response open. */
function pipe(run: ProgramRun, res: Res): unknown {
  const stream = new Readable({ read() { /* pushed by hand */ } });
  stream.on('error', (error) => run.streamErrors.push(error.message));
  stream.push('piped ');
  setImmediate(() => stream.destroy(new Error('stream failed midway')));
  return stream.pipe(res);
}

/**
 * The program's response hook, installed by middleware before the route (the express-mung
 * pattern): `res.json` or `res.send` replaced on this response; its first call puts the original
 * back, then does what the program says. `next` is the middleware's own, as such hooks keep it.
 */
export function installHook(run: ProgramRun, res: ServerResponse, next: Next): void {
  const hook = run.program.hook;
  if (hook === undefined) return;
  const response = res as Res;
  const original = response[hook.on] as (this: Res, body: unknown) => Res;
  const replacement = function (this: Res, body: unknown): unknown {
    response[hook.on] = original;
    const record = run.ops[run.ops.length - 1];
    if (record !== undefined) record.hooked = true;
    const i = run.currentOp;
    switch (hook.does) {
      case 'transform': return original.call(this, hook.on === 'json' ? { hooked: body } : typeof body === 'string' ? `hooked ${body}` : body);
      case 'next-err': return next(new Error(`hook next(err) at step ${i}`));
      case 'answer': return this.status(200).type('text').end(`hook answered at step ${i}`);
      case 'throw': throw new Error(`program throw at step ${i}`);
    }
  };
  response[hook.on] = replacement as Res['json'];
}

/** Run step `i`, recording what the handler sees. A throw propagates, as the program's would. */
function step(run: ProgramRun, i: number, req: IncomingMessage, res: Res, next: Next | undefined): void {
  const op = run.program.steps[i]!.op;
  run.currentOp = i;
  const record: OpRecord = {
    i,
    op: op.op,
    before: { headersSent: res.headersSent, writableEnded: res.writableEnded, writableFinished: res.writableFinished, destroyed: res.destroyed, statusCode: res.statusCode },
    flushed: false,
    callbacks: [],
  };
  run.ops.push(record);
  let returned = false;
  const callback = (err?: unknown): void => {
    const code = err === undefined || err === null ? null : (errorFacts(err).code ?? errorFacts(err).name);
    record.callbacks.push({ error: code, sync: !returned });
  };
  try {
    record.returned = returnedAs(res, call(run, i, op, req, res, next, callback));
  } catch (error) {
    record.threw = errorFacts(error);
    throw error;
  } finally {
    returned = true;
    record.flushed = !record.before.headersSent && res.headersSent;
  }
}

/**
 * What an async step waits for first: the gate, and the flush of an ended response (so that a
 * late sendFile sees a finished response, not a race between its stat and the socket's write).
 */
function settled(res: ServerResponse, gate: Promise<void> | undefined): Promise<void> | undefined {
  if (!res.writableEnded || res.writableFinished || res.destroyed) return gate;
  const flushed = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 100);
    const done = (): void => { clearTimeout(timer); resolve(); };
    res.once('finish', done);
    res.once('close', done);
  });
  return gate === undefined ? flushed : Promise.all([gate, flushed]).then(() => undefined);
}

/** Run the steps from `i` on: the sync ones now, then the next one after its await, immediate or timer. */
function runFrom(run: ProgramRun, i: number, req: IncomingMessage, res: Res, next: Next | undefined): Promise<void> | undefined {
  const steps = run.program.steps;
  try {
    for (; i < steps.length && steps[i]!.at === 'sync'; i++) step(run, i, req, res, next);
  } catch (error) {
    run.finish();
    throw error;
  }
  if (i >= steps.length) {
    // The program is over once a sendFile still in flight has settled too.
    if (run.gate === undefined) run.finish();
    else void run.gate.then(run.finish);
    return undefined;
  }
  const at = steps[i]!.at;
  const gate = settled(res, run.gate);
  run.gate = undefined;
  if (at === 'await') {
    return (async () => {
      await gate;
      await null;
      try {
        step(run, i, req, res, next);
      } catch (error) {
        run.finish();
        throw error;
      }
      return runFrom(run, i + 1, req, res, next);
    })();
  }
  const fire = (): void => {
    try {
      step(run, i, req, res, next);
    } catch (error) {
      run.finish();
      throw error;
    }
    void runFrom(run, i + 1, req, res, next);
  };
  const schedule = (): void => { if (at === 'immediate') setImmediate(fire); else setTimeout(fire, 2); };
  if (gate === undefined) schedule();
  else void gate.then(schedule);
  return undefined;
}

/** The route handler: runs the program; returns its promise (Express 5 routes a rejection to next(err)). */
export function runProgram(run: ProgramRun, req: IncomingMessage, res: ServerResponse, next?: Next): Promise<void> | undefined {
  return runFrom(run, 0, req, res as Res, next);
}

/**
 * The app's error handler (Express): records the error; answers 500 when it can, else passes
 * the error on to Express's final handler (which closes the connection), as apps do.
 */
export function errorHandler(run: ProgramRun | undefined, err: unknown, res: ServerResponse, next: Next): void {
  if (run !== undefined) {
    run.errorsSeen.push({ ...errorFacts(err), headersSent: res.headersSent, writableEnded: res.writableEnded });
    run.poke();
  }
  if (res.headersSent) {
    next(err);
    return;
  }
  res.statusCode = 500;
  res.end(`error: ${errorFacts(err).code ?? errorFacts(err).name}`);
}
