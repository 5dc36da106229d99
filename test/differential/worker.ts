// The differential fuzzer's worker: one process per (server, variant), so that the no-guard
// baseline runs in a process that never loaded the guard. It serves a batch of programs one
// after another on one real server on 127.0.0.1, talks to it with a real client over loopback,
// and writes one observation per program to a JSON file.
//
//   node --import tsx test/differential/worker.ts <server> <variant> <programs.json> <out.json>
import { writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { errorFacts, errorHandler, INTERPRETER_FILE, installHook, newRun, runProgram, type ErrorFacts, type OpRecord, type ProgramRun } from './interpreter.js';
import type { Program, ServerKind, Variant } from './program.js';

/** What the client got for one request. */
export interface ClientFacts {
  status: number;
  statusMessage: string;
  /** Raw header lines in order, Date left out. */
  headers: string[];
  /** The body bytes, base64. */
  body: string;
  /**
   * complete; reset (cut before the end, seen by the client); cut (the server destroyed the
   * socket: status, headers and body are then left out, since a reset may discard them);
   * timeout (a hang); client-abort (the program's abort step).
   */
  fate: 'complete' | 'reset' | 'cut' | 'timeout' | 'client-abort';
  /** For the follow-up: whether it went on the kept-alive connection. */
  reused?: boolean;
}

/** A violation as the checks need it. */
export interface ViolationFacts {
  kind: string;
  code: string;
  call: string;
  /** The step running when it was reported. */
  op: number;
  offendingHere: boolean;
  firstSentHere: boolean;
  hasFirstSent: boolean;
  /** The message of the error an error-after-send report is about. */
  error?: string;
}

/** Everything observed about one program in one variant. */
export interface Observation {
  ops: OpRecord[];
  errorsSeen: ProgramRun['errorsSeen'];
  streamErrors: string[];
  uncaught: ErrorFacts[];
  rejections: ErrorFacts[];
  client: ClientFacts;
  followUp?: ClientFacts;
  /** Whether the chain of steps finished (or stopped at a throw) in time. */
  chainDone: boolean;
  /** The response afterwards, as the app (and an access log) sees it. */
  final: { statusCode: number; headersSent: boolean; writableEnded: boolean; writableFinished: boolean; destroyed: boolean };
  violations: ViolationFacts[];
}

export interface WorkerOutput {
  /** False when the variant asks for an option this guard does not have (contain). */
  available: boolean;
  observations: Observation[];
}

/** The longest a request may take; a program's own steps take a few milliseconds. */
const CLIENT_TIMEOUT_MS = 2000;
/** How long after the program's last step the answer may still come (a sendFile's stream, a deferred 404). */
const HANG_MS = 150;

const [serverKind, variant, programsFile, outFile] = process.argv.slice(2) as [ServerKind, Variant, string, string];
const programs = JSON.parse(readFileSync(programsFile, 'utf8')) as Program[];

let current: { run: ProgramRun; uncaught: ErrorFacts[]; rejections: ErrorFacts[]; violations: ViolationFacts[]; res?: http.ServerResponse } | undefined;
process.on('uncaughtException', (error) => current?.uncaught.push(errorFacts(error)));
process.on('unhandledRejection', (error) => current?.rejections.push(errorFacts(error)));

const runs = new Map<string, ProgramRun>();
const runOf = (req: http.IncomingMessage): ProgramRun | undefined => runs.get(req.url ?? '');

/** The guard middleware for this variant, loaded only when needed: the baseline never loads it. */
function makeGuard(): ((req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => void) | undefined | null {
  if (variant === 'none') return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { headerGuard } = require('../../src/index.js') as typeof import('../../src/index.js');
  const onViolation = (violation: import('../../src/index.js').Violation, req: http.IncomingMessage): void => {
    const run = runOf(req);
    if (run === undefined || current?.run !== run) return;
    current.violations.push({
      kind: violation.kind,
      code: violation.code,
      call: violation.call,
      op: run.currentOp,
      offendingHere: 'offending' in violation && violation.offending?.file === INTERPRETER_FILE,
      firstSentHere: violation.firstSent?.file === INTERPRETER_FILE,
      hasFirstSent: violation.firstSent !== undefined,
      ...(violation.kind === 'error-after-send' && violation.error instanceof Error ? { error: violation.error.message } : {}),
    });
  };
  const options: Record<string, unknown> = { mode: 'log', capture: 'always', onViolation };
  if (variant === 'contain') options.contain = true;
  try {
    return headerGuard(options);
  } catch {
    return null;
  }
}

function makeListener(guard: ReturnType<typeof makeGuard>): http.RequestListener {
  if (serverKind === 'http') {
    return (req, res) => {
      const run = runOf(req);
      const handler = (): unknown => (run === undefined ? res.end('ok') : runProgram(run, req, res));
      if (guard) guard(req, res, handler);
      else handler();
    };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = (serverKind === 'express5' ? require('express') : require('express4')) as typeof import('express');
  const app = express();
  if (guard) app.use(guard);
  app.get('/ok', (_req, res) => { res.send('ok'); });
  // Unmounted, so that req.url is still the program's path.
  app.use((req, res, next) => {
    const run = runOf(req);
    if (run !== undefined) installHook(run, res, next);
    next();
  });
  app.all('/p/:id', (req, res, next) => runProgram(runOf(req)!, req, res, next));
  app.use((err: unknown, req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => errorHandler(runOf(req), err, res, next));
  return app as unknown as http.RequestListener;
}

/** One request; resolves when the response ended, was cut, timed out, or the program aborted it. */
function exchange(port: number, path: string, method: string, agent: http.Agent, run?: ProgramRun): Promise<ClientFacts> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const facts: ClientFacts = { status: 0, statusMessage: '', headers: [], body: '', fate: 'reset' };
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (fate: ClientFacts['fate']): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      facts.fate = fate;
      facts.body = Buffer.concat(chunks).toString('base64');
      resolve(facts);
    };
    const req = http.request({ host: '127.0.0.1', port, path, method, agent }, (res) => {
      facts.status = res.statusCode ?? 0;
      facts.statusMessage = res.statusMessage ?? '';
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        if (res.rawHeaders[i]!.toLowerCase() !== 'date') facts.headers.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      }
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done('complete'));
      res.on('error', () => done('reset'));
      res.on('aborted', () => done('reset'));
    });
    req.on('socket', () => { facts.reused = req.reusedSocket; });
    req.on('error', () => done('reset'));
    // A hang: no answer HANG_MS after the program's last step (or CLIENT_TIMEOUT_MS after the request, at most).
    const hang = (): void => { done('timeout'); req.destroy(); };
    timer = setTimeout(hang, CLIENT_TIMEOUT_MS);
    if (run !== undefined) {
      void run.done.then(() => {
        if (settled) return;
        clearTimeout(timer);
        timer = setTimeout(hang, HANG_MS);
      });
      run.abortClient = async () => {
        const socket: Socket | undefined = (current?.res as http.ServerResponse | undefined)?.socket ?? undefined;
        done('client-abort');
        req.destroy();
        if (socket !== undefined && !socket.destroyed) await Promise.race([new Promise((r) => socket.once('close', r)), sleep(200)]);
      };
    }
    req.end();
  });
}

async function runOne(port: number, index: number, program: Program): Promise<Observation> {
  const run = newRun(program);
  const path = `/p/${index}`;
  runs.set(path, run);
  const slot: NonNullable<typeof current> = { run, uncaught: [], rejections: [], violations: [] };
  current = slot;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let res: http.ServerResponse | undefined;
  const capture = (req: http.IncomingMessage, response: http.ServerResponse): void => {
    if (req.url !== path) return;
    slot.res = res = response;
    // Who cuts the connection: a server-side destroy() while the program runs (not the cleanup's).
    const socket = req.socket as Socket & { destroy: Socket['destroy'] };
    const destroy = socket.destroy;
    socket.destroy = function (this: Socket, ...args: Parameters<Socket['destroy']>) {
      // A graceful close ends in destroy() too, once the socket finished writing: not a cut.
      if (!cleanup && !this.writableFinished) cut = true;
      return destroy.apply(this, args);
    } as Socket['destroy'];
  };
  let cut = false;
  let cleanup = false;
  server.prependListener('request', capture);
  const client = await exchange(port, path, program.method, agent, run);
  server.removeListener('request', capture);
  delete client.reused;
  // The connection stays open until the program is over: a sendFile in flight must not race its close.
  const chainDone = await Promise.race([run.done.then(() => true), sleep(500).then(() => false)]);
  if (cut && client.fate !== 'client-abort') {
    // What a client got before a server-side destroy() right after the last write is up to the
    // kernel (a reset may discard it): only the cut itself is compared.
    Object.assign(client, { status: 0, statusMessage: '', headers: [], body: '', fate: 'cut' });
  }
  let followUp: ClientFacts | undefined;
  if (program.followUp) {
    await immediate();
    followUp = await exchange(port, '/ok', 'GET', agent);
  }
  cleanup = true;
  agent.destroy();
  await immediate();
  await sleep(5);
  await immediate();
  current = undefined;
  runs.delete(path);
  const final = res === undefined
    ? { statusCode: 0, headersSent: false, writableEnded: false, writableFinished: false, destroyed: false }
    : { statusCode: res.statusCode, headersSent: res.headersSent, writableEnded: res.writableEnded, writableFinished: res.writableFinished, destroyed: res.destroyed };
  const observation: Observation = {
    ops: run.ops, errorsSeen: run.errorsSeen, streamErrors: run.streamErrors,
    uncaught: slot.uncaught, rejections: slot.rejections, client, chainDone, final, violations: slot.violations,
  };
  if (followUp !== undefined) observation.followUp = followUp;
  return observation;
}

const guard = makeGuard();
const server = http.createServer(guard === null ? () => undefined : makeListener(guard));
server.keepAliveTimeout = 1000;

async function main(): Promise<void> {
  if (guard === null) {
    writeFileSync(outFile, JSON.stringify({ available: false, observations: [] } satisfies WorkerOutput));
    return;
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const observations: Observation[] = [];
  for (const [index, program] of programs.entries()) {
    observations.push(await runOne(port, index, program));
    server.closeIdleConnections();
  }
  writeFileSync(outFile, JSON.stringify({ available: true, observations } satisfies WorkerOutput));
  server.closeAllConnections();
  server.close();
}

void main().then(() => process.exit(0));
