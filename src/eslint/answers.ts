/**
 * What a call does to a response, read from its source: the method table (Express, Next.js API
 * routes, node:http, Fastify), reading a chain such as `res.status(400).json()` down to the
 * response it starts from, and the short text a report shows for a call. Pure: no ESLint state.
 */
import type * as ESTree from 'estree';

/** What one method does to the response it is called on. */
type Effect = 'answer' | 'end' | 'flush' | 'write' | 'status' | 'header';

/** The methods that change a response, by what they do (reads such as `get` are absent). */
const EFFECTS: ReadonlyMap<string, Effect> = new Map<string, Effect>([
  ...['send', 'json', 'jsonp', 'sendFile', 'download', 'redirect', 'render', 'sendStatus'].map((name) => [name, 'answer'] as const),
  ['end', 'end'],
  ['writeHead', 'flush'],
  ['flushHeaders', 'flush'],
  ['write', 'write'],
  ['status', 'status'],
  ['code', 'status'],
  ...['set', 'header', 'headers', 'setHeader', 'setHeaders', 'append', 'appendHeader', 'type', 'contentType', 'cookie', 'clearCookie', 'location', 'vary', 'attachment', 'links', 'removeHeader'].map((name) => [name, 'header'] as const),
]);

/** An ESLint selector of the calls of a method that can change a response (`res.json()`, `x.status(400).send()`). */
export const RESPONSE_CALL_SELECTOR = `CallExpression[callee.property.name=/^(${[...EFFECTS.keys()].join('|')})$/]`;

/** What a whole call (a chain counts once) does to the response it starts from. */
export interface CallFacts {
  /** A body method (`send`, `json`, `redirect`, ...): the response is answered. */
  readonly answers: boolean;
  /** `end()`: the response is answered; `endsWithData`: with a body chunk. */
  readonly ends: boolean;
  readonly endsWithData: boolean;
  /** `writeHead`, `flushHeaders` or `write`: the headers go out, the body may go on. */
  readonly flushes: boolean;
  /** `write()`: a body chunk. */
  readonly writes: boolean;
  /** `status()`/`code()` (or `sendStatus`): the status code changes. */
  readonly status: boolean;
  /** A header setter, or `writeHead` (which sets the status line and headers). */
  readonly header: boolean;
}

/** A call chain read down to its start: `res.status(400).json(x)` is `res` and two calls. */
export interface Chain {
  readonly root: ESTree.Identifier;
  readonly calls: readonly { readonly name: string; readonly node: ESTree.CallExpression }[];
}

/** The expression under TypeScript's `x!`/`x as T` and optional chaining, which change nothing at run time. */
export function unwrap(node: ESTree.Node): ESTree.Node {
  let current = node as ESTree.Node & { expression?: ESTree.Node };
  while ((current.type as string) === 'TSNonNullExpression' || (current.type as string) === 'TSAsExpression' || (current.type as string) === 'TSSatisfiesExpression' || current.type === 'ChainExpression') {
    current = current.expression as ESTree.Node & { expression?: ESTree.Node };
  }
  return current;
}

/** Read a call chain down to the identifier it starts from, or undefined (computed keys, `this.res`, ...). */
export function readChain(call: ESTree.CallExpression): Chain | undefined {
  const calls: { name: string; node: ESTree.CallExpression }[] = [];
  let current: ESTree.Node = call;
  while (current.type === 'CallExpression') {
    const callee = unwrap(current.callee);
    if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier') return undefined;
    calls.unshift({ name: callee.property.name, node: current });
    current = unwrap(callee.object);
  }
  return current.type === 'Identifier' ? { root: current, calls } : undefined;
}

/** Whether a call is a link inside a longer chain (`res.status(400)` in `res.status(400).json()`): the chain counts once, at its end. */
export function isInnerLink(call: ESTree.Node & { parent?: ESTree.Node }): boolean {
  let child: ESTree.Node & { parent?: ESTree.Node } = call;
  let parent = call.parent as (ESTree.Node & { parent?: ESTree.Node }) | undefined;
  while (parent !== undefined && ((parent.type as string) === 'TSNonNullExpression' || parent.type === 'ChainExpression')) {
    child = parent;
    parent = parent.parent as (ESTree.Node & { parent?: ESTree.Node }) | undefined;
  }
  if (parent?.type !== 'MemberExpression' || parent.object !== child) return false;
  const grand = (parent as ESTree.Node & { parent?: ESTree.Node }).parent;
  return grand?.type === 'CallExpression' && grand.callee === parent;
}

/** What a chain does to its response; undefined when it changes nothing (`res.get()`, `res.render(view, callback)`). */
export function factsOf(chain: Chain): CallFacts | undefined {
  const seen = new Set<Effect>();
  let endsWithData = false;
  for (const { name, node } of chain.calls) {
    const effect = EFFECTS.get(name);
    if (effect === undefined) continue;
    // render(view, callback) hands the HTML to the callback instead of sending it.
    if (name === 'render' && node.arguments.some((arg) => arg.type === 'ArrowFunctionExpression' || arg.type === 'FunctionExpression')) continue;
    if (name === 'sendStatus') seen.add('status');
    if (name === 'writeHead') seen.add('header');
    if (name === 'end' && node.arguments.length > 0 && !isCallbackOnly(node.arguments)) endsWithData = true;
    seen.add(effect);
  }
  if (seen.size === 0) return undefined;
  return {
    answers: seen.has('answer'),
    ends: seen.has('end'),
    endsWithData,
    flushes: seen.has('flush') || seen.has('write'),
    writes: seen.has('write'),
    status: seen.has('status'),
    header: seen.has('header'),
  };
}

/** `end(callback)`: no data, only a callback (a function, or a name such as `cb` or `done`). */
function isCallbackOnly(args: readonly ESTree.Node[]): boolean {
  const first = args[0];
  if (args.length !== 1 || first === undefined) return false;
  return first.type === 'ArrowFunctionExpression' || first.type === 'FunctionExpression' || (first.type === 'Identifier' && /^(cb|callback|done|next)$/i.test(first.name));
}

/** One argument as a report shows it: short literals and names as written, anything else `…`. */
function argumentText(arg: ESTree.Node): string {
  if (arg.type === 'Literal' && (typeof arg.value === 'number' || (typeof arg.value === 'string' && arg.value.length <= 24))) return JSON.stringify(arg.value).replaceAll('"', "'");
  if (arg.type === 'Identifier' && arg.name.length <= 24) return arg.name;
  return '…';
}

/** A call's argument list as a report shows it: `()`, `(400)`, `(err)` or `(…)`. */
export function argumentsText(args: readonly ESTree.Node[]): string {
  if (args.length === 0) return '()';
  const only = args[0];
  return args.length === 1 && only !== undefined ? `(${argumentText(only)})` : '(…)';
}

/** A chain as a report shows it: `res.status(400).json(…)`. */
export function chainText(chain: Chain): string {
  return `${chain.root.name}${chain.calls.map(({ name, node }) => `.${name}${argumentsText(node.arguments)}`).join('')}`;
}
