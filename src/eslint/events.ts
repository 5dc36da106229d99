/**
 * What a recorded node does to which response, once the file's responses are known: a call on a
 * response (`res.status(400).json()`), `next()`, a call of a same-file helper that answers on
 * every path, a Fastify `async` handler's returned value, or a `headersSent`-style guard.
 */
import type { Rule, Scope } from 'eslint';
import type * as ESTree from 'estree';
import { argumentsText, chainText, factsOf, readChain, unwrap, type CallFacts } from './answers.js';
import type { FunctionNode } from './responses.js';

/** A guard read: the code after it knows whether the response was sent. */
export const GUARD_SELECTOR = 'MemberExpression[property.name=/^(headersSent|writableEnded|writableFinished|finished|sent)$/]';

/** What one node does to one response. */
export type Event =
  | { readonly type: 'call'; readonly variable: Scope.Variable; readonly facts: CallFacts; readonly text: string }
  | { readonly type: 'next' | 'helper' | 'return'; readonly variable: Scope.Variable; readonly text: string }
  | { readonly type: 'guard'; readonly variable: Scope.Variable }
  | { readonly type: 'catch'; readonly tried: readonly [number, number] };

/** The responses of one file and the helpers that answer them: what the events are read against. */
export interface FileModel {
  /** Every reference to a response → its variable. */
  readonly responses: ReadonlyMap<ESTree.Node, Scope.Variable>;
  /** Every reference to Express's `next` → the response of the same handler (next() answers for it). */
  readonly nexts: ReadonlyMap<ESTree.Node, Scope.Variable>;
  /** Every call name that refers to a same-file function taking a response → that function. */
  readonly helperCallees: ReadonlyMap<ESTree.Node, FunctionNode>;
  /** The same-file functions that answer a response parameter on every path, with its positions. */
  readonly answeringHelpers: ReadonlyMap<FunctionNode, ReadonlySet<number>>;
  /** Fastify `async` handlers → their reply: what they return is an answer. */
  readonly fastifyReplies: ReadonlyMap<FunctionNode, Scope.Variable>;
}

/** The event of a recorded node, or undefined if it does nothing to a response. */
export function eventOf(node: Rule.Node, model: FileModel, owner: Rule.Node): Event | undefined {
  // The start of a catch block: ESLint lets every point of the try block throw, even after its answer.
  if (node.type === 'CatchClause') return node.parent.type === 'TryStatement' && node.parent.block.range !== undefined ? { type: 'catch', tried: node.parent.block.range } : undefined;
  if (node.type === 'MemberExpression') {
    const variable = model.responses.get(unwrap(node.object));
    return variable === undefined ? undefined : { type: 'guard', variable };
  }
  if (node.type === 'ReturnStatement') return returnEvent(node, model, owner);
  if (node.type !== 'CallExpression') return undefined;
  const callee = unwrap(node.callee);
  if (callee.type === 'Identifier') return nextEvent(node, callee, model) ?? helperEvent(node, callee, model);
  const chain = readChain(node);
  const variable = chain === undefined ? undefined : model.responses.get(chain.root);
  if (chain === undefined || variable === undefined) return undefined;
  const facts = factsOf(chain);
  return facts === undefined ? undefined : { type: 'call', variable, facts, text: chainText(chain) };
}

/** `next()` or `next(err)`. */
function nextEvent(node: ESTree.CallExpression, callee: ESTree.Identifier, model: FileModel): Event | undefined {
  const variable = model.nexts.get(callee);
  return variable === undefined ? undefined : { type: 'next', variable, text: `${callee.name}${argumentsText(node.arguments)}` };
}

/** `sendError(res, …)`, where the same file's `sendError` answers its response on every path. */
function helperEvent(node: ESTree.CallExpression, callee: ESTree.Identifier, model: FileModel): Event | undefined {
  const helper = model.helperCallees.get(callee);
  const positions = helper === undefined ? undefined : model.answeringHelpers.get(helper);
  if (positions === undefined) return undefined;
  for (const index of positions) {
    const arg = node.arguments[index];
    const variable = arg === undefined ? undefined : model.responses.get(unwrap(arg));
    if (variable === undefined) continue;
    const args = node.arguments.map((other) => (other === arg ? variable.name : '…')).join(', ');
    return { type: 'helper', variable, text: `${callee.name}(${args.replace(/(…, )+…/g, '…')})` };
  }
  return undefined;
}

/** `return value` in a Fastify `async` handler: Fastify sends the value (a second answer after `reply.send()`). */
function returnEvent(node: ESTree.ReturnStatement, model: FileModel, owner: Rule.Node): Event | undefined {
  const variable = model.fastifyReplies.get(owner as FunctionNode);
  const arg = node.argument === null || node.argument === undefined ? undefined : unwrap(node.argument.type === 'AwaitExpression' ? node.argument.argument : node.argument);
  if (variable === undefined || arg === undefined || isNothing(arg)) return undefined;
  // `return reply`, `return reply.send(x)`: the reply itself, which Fastify does not send twice.
  if (model.responses.has(arg)) return undefined;
  const chain = arg.type === 'CallExpression' ? readChain(arg) : undefined;
  if (chain !== undefined && model.responses.has(chain.root)) return undefined;
  if (arg.type === 'CallExpression' && unwrap(arg.callee).type === 'Identifier' && model.helperCallees.has(unwrap(arg.callee))) return undefined;
  return { type: 'return', variable, text: 'return …' };
}

/** `undefined`, `null`, `void x`: Fastify waits for `reply.send()` instead. */
function isNothing(node: ESTree.Node): boolean {
  return (node.type === 'Identifier' && node.name === 'undefined') || (node.type === 'Literal' && node.value === null) || (node.type === 'UnaryExpression' && node.operator === 'void');
}
