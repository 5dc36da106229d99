// The differential fuzzer's programs: what a generated handler does, the fast-check generator
// (per server: node:http gets only Node's methods), a readable one-line form, and the candidates
// the shrinker tries.
import fc from 'fast-check';

/** The servers every program runs on. */
export type ServerKind = 'express5' | 'express4' | 'http';
export const SERVERS: readonly ServerKind[] = ['express5', 'express4', 'http'];

/** How a handler runs: without the guard, in log mode, in log mode with containment. */
export type Variant = 'none' | 'log' | 'contain';

/** Status codes programs use: ordinary ones and the bodiless 204 and 304. */
const CODES = [200, 201, 204, 304, 404, 500] as const;
export type Code = (typeof CODES)[number];

/** One response operation. Values are fixed per operation: reports never print them anyway. */
export type Op =
  | { op: 'status' | 'statusCode' | 'sendStatus'; code: Code }
  | { op: 'setHeader' | 'appendHeader' | 'removeHeader'; name: 'x-a' | 'content-type' }
  | { op: 'set' | 'append' | 'cookie' | 'type' | 'location' }
  | { op: 'writeHead'; code: Code; headers: 'none' | 'object' | 'array' | 'raw' }
  | { op: 'flushHeaders' }
  | { op: 'write'; cb: boolean }
  | { op: 'end'; data: boolean; cb: boolean }
  | { op: 'send' | 'sendObject' | 'json' | 'jsonp' | 'redirect' | 'format' }
  | { op: 'sendFile'; exists: boolean; cb: boolean }
  | { op: 'next'; err: boolean }
  | { op: 'throw' }
  | { op: 'pipe' }
  | { op: 'abort' };

/**
 * When a step runs: right after the previous one (`sync`), after `await` (a microtask), in a
 * `setImmediate` callback, or in a 2 ms timer callback. A throw in a callback is uncaught; one
 * after an await rejects the handler's promise.
 */
export type Timing = 'sync' | 'await' | 'immediate' | 'timer';

export interface Step {
  at: Timing;
  op: Op;
}

/**
 * A response hook (Express only), as response-transforming middleware installs one (the
 * express-mung pattern): middleware before the route replaces `res.json` or `res.send` on the
 * response, once; on its first call the replacement puts the original back and then passes the
 * body on transformed, passes an error to next(), answers itself (`res.status(200).type('text')
 * .end(...)`), or throws.
 */
export interface Hook {
  on: 'json' | 'send';
  does: 'transform' | 'next-err' | 'answer' | 'throw';
}

/** A generated handler program and how the client talks to it. */
export interface Program {
  method: 'GET' | 'HEAD';
  /** A second request on the same kept-alive connection after the first response. */
  followUp: boolean;
  steps: Step[];
  /** A response hook installed before the route runs (Express servers only). */
  hook?: Hook;
}

const code = fc.constantFrom(...CODES);
const timing = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Timing>('sync') },
  { weight: 2, arbitrary: fc.constant<Timing>('await') },
  { weight: 1, arbitrary: fc.constant<Timing>('immediate') },
  { weight: 1, arbitrary: fc.constant<Timing>('timer') },
);

/** Operations both node:http and Express responses have. */
function nodeOps(): Array<fc.WeightedArbitrary<Op>> {
  return [
    { weight: 2, arbitrary: fc.record({ op: fc.constant('statusCode' as const), code }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('setHeader' as const, 'appendHeader' as const, 'removeHeader' as const), name: fc.constantFrom('x-a' as const, 'content-type' as const) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('writeHead' as const), code, headers: fc.constantFrom('none' as const, 'object' as const, 'array' as const, 'raw' as const) }) },
    { weight: 1, arbitrary: fc.constant<Op>({ op: 'flushHeaders' }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('write' as const), cb: fc.boolean() }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('end' as const), data: fc.boolean(), cb: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant<Op>({ op: 'throw' }) },
    { weight: 1, arbitrary: fc.constant<Op>({ op: 'pipe' }) },
    { weight: 1, arbitrary: fc.constant<Op>({ op: 'abort' }) },
  ];
}

/** Express's own methods, and next(). */
function expressOps(): Array<fc.WeightedArbitrary<Op>> {
  return [
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('status' as const, 'sendStatus' as const), code }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('set' as const, 'append' as const, 'cookie' as const, 'type' as const, 'location' as const) }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('send' as const, 'sendObject' as const, 'json' as const, 'jsonp' as const, 'redirect' as const, 'format' as const) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('sendFile' as const), exists: fc.boolean(), cb: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('next' as const), err: fc.boolean() }) },
  ];
}

/** A hook in about one Express program of three. */
const hook: fc.Arbitrary<Hook | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.record({ on: fc.constantFrom('json' as const, 'send' as const), does: fc.constantFrom('transform' as const, 'next-err' as const, 'answer' as const, 'throw' as const) }) },
);

/** The programs for one server. */
export function programArbitrary(server: ServerKind): fc.Arbitrary<Program> {
  const ops = server === 'http' ? nodeOps() : [...nodeOps(), ...expressOps()];
  const step = fc.record({ at: timing, op: fc.oneof(...ops) });
  return fc.record({
    method: fc.oneof({ weight: 5, arbitrary: fc.constant<'GET'>('GET') }, { weight: 1, arbitrary: fc.constant<'HEAD'>('HEAD') }),
    followUp: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    steps: fc.array(step, { minLength: 1, maxLength: 7 }),
    hook: server === 'http' ? fc.constant(undefined) : hook,
  }).map((program) => {
    const { hook: installed, ...rest } = program;
    return normalize(installed === undefined ? rest : { ...rest, hook: installed });
  });
}

/**
 * Keep Node's own races out: a sendFile runs only after an await (its stat would race the
 * response's flush), and the step after it waits for it (a second answer while it streams races
 * its stat, without the guard too).
 */
export function normalize(program: Program): Program {
  const steps = program.steps.map((step, i) => {
    const previous = program.steps[i - 1];
    const waits = step.op.op === 'sendFile' || previous?.op.op === 'sendFile';
    return waits && step.at === 'sync' ? { ...step, at: 'await' as const } : step;
  });
  return { ...program, steps };
}

/** `count` programs for a server, the same ones for the same seed. */
export function generate(server: ServerKind, count: number, seed: number): Program[] {
  return fc.sample(programArbitrary(server), { seed, numRuns: count });
}

/** One operation as code-like text. */
export function describeOp(op: Op): string {
  switch (op.op) {
    case 'status': case 'sendStatus': return `res.${op.op}(${op.code})`;
    case 'statusCode': return `res.statusCode = ${op.code}`;
    case 'setHeader': case 'appendHeader': return `res.${op.op}('${op.name}')`;
    case 'removeHeader': return `res.removeHeader('${op.name}')`;
    case 'writeHead': return `res.writeHead(${op.code}${op.headers === 'none' ? '' : `, <${op.headers} headers>`})`;
    case 'write': return `res.write('w'${op.cb ? ', cb' : ''})`;
    case 'end': return `res.end(${[op.data ? "'e'" : '', op.cb ? 'cb' : ''].filter(Boolean).join(', ')})`;
    case 'sendFile': return `res.sendFile(<${op.exists ? 'existing' : 'missing'}>${op.cb ? ', cb' : ''})`;
    case 'next': return op.err ? 'next(err)' : 'next()';
    case 'throw': return 'throw err';
    case 'pipe': return 'stream.pipe(res) // errors midway';
    case 'abort': return '<client aborts>';
    case 'sendObject': return 'res.send({...})';
    default: return `res.${op.op}()`;
  }
}

/** A program on one line: `GET [sync res.end('e'); timer res.setHeader('x-a')]`. */
export function describeProgram(program: Program): string {
  const steps = program.steps.map((step) => `${step.at} ${describeOp(step.op)}`).join('; ');
  const hooked = program.hook === undefined ? '' : ` hook res.${program.hook.on}: ${program.hook.does}`;
  return `${program.method}${program.followUp ? ' +keep-alive follow-up' : ''}${hooked} [${steps}]`;
}

/** Smaller or simpler programs than `program`, simplest change first, for the shrinker. */
export function shrinkCandidates(program: Program): Program[] {
  const out: Program[] = [];
  const withSteps = (steps: Step[]): Program => ({ ...program, steps });
  if (program.steps.length > 1) {
    for (let i = 0; i < program.steps.length; i++) out.push(withSteps(program.steps.filter((_, j) => j !== i)));
  }
  if (program.followUp) out.push({ ...program, followUp: false });
  if (program.hook !== undefined) {
    const { hook: _hook, ...unhooked } = program;
    out.push(unhooked);
  }
  if (program.method === 'HEAD') out.push({ ...program, method: 'GET' });
  program.steps.forEach((step, i) => {
    const replace = (next: Step): void => {
      out.push(withSteps(program.steps.map((s, j) => (j === i ? next : s))));
    };
    if (step.at === 'timer' || step.at === 'immediate') replace({ ...step, at: 'await' });
    if (step.at !== 'sync') replace({ ...step, at: 'sync' });
    const op = step.op;
    if ('cb' in op && op.cb) replace({ ...step, op: { ...op, cb: false } });
    if (op.op === 'end' && op.data) replace({ ...step, op: { ...op, data: false } });
    if (op.op === 'writeHead' && op.headers !== 'none') replace({ ...step, op: { ...op, headers: 'none' } });
    if ('code' in op && op.code !== 200) replace({ ...step, op: { ...op, code: 200 } } as Step);
  });
  return out.map(normalize).filter((candidate) => JSON.stringify(candidate) !== JSON.stringify(program));
}
