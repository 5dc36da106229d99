/**
 * Which parameters of a function are responses (and which is Express's `next`), whatever their
 * names: handlers registered on Express 4/5 and Connect (`app.get`, `router.use`, `route()`),
 * `node:http` servers (`createServer`, `on('request')`), Fastify routes and hooks, Next.js
 * pages-router API routes, NestJS `@Res()`/`@Next()` parameters, parameters typed as a response,
 * and the `(req, res)` / `(request, reply)` shape of handlers registered in another file.
 * Read from the syntax of one file; the rule adds the functions a response is passed on to.
 */
import type * as ESTree from 'estree';
import { unwrap } from './answers.js';

/** A function node: a declaration, an expression or an arrow. */
export type FunctionNode = ESTree.FunctionDeclaration | ESTree.FunctionExpression | ESTree.ArrowFunctionExpression;

/** A node with its parent, as ESLint hands them to rules. */
type Linked = ESTree.Node & { parent?: Linked };

/** What the rule knows of a file before reading its functions: module names by local name, its path. */
export interface FileFacts {
  /** Local name → the module it was imported or required from (`Response` → `express`). */
  readonly imports: ReadonlyMap<string, string>;
  /** The file imports Fastify: its handlers answer with `reply`, and an `async` handler's return value is an answer. */
  readonly fastify: boolean;
  /** The file is a Next.js pages-router API route (`pages/api/…`): its default export answers. */
  readonly nextApiRoute: boolean;
}

/** The roles of one function's parameters. */
export interface Roles {
  /** The parameters that are responses. */
  readonly responses: readonly ESTree.Identifier[];
  /** The parameters that are Express's `next`. */
  readonly nexts: readonly ESTree.Identifier[];
  /** A Fastify route handler: an `async` one answers with its return value too (a hook's value is ignored). */
  readonly sendsReturn: boolean;
}

/** Route methods of Express, Connect and Fastify: `app.get(path, handler)`. */
const ROUTE_METHODS = new Set(['get', 'post', 'put', 'delete', 'del', 'patch', 'options', 'head', 'all']);
/** An ESLint selector of the calls that can register a handler by name (`app.get('/', handler)`). */
export const REGISTERING_CALL_SELECTOR = `CallExpression[callee.property.name=/^(${[...ROUTE_METHODS, 'use', 'addHook', 'createServer', 'on', 'once'].join('|')})$/]`;
/** Fastify route-option keys that hold a handler or a request hook. */
const FASTIFY_KEYS = new Set(['handler', 'preHandler', 'onRequest', 'preValidation', 'preParsing']);
/** Response types, by the module they come from (`undefined`: known under that name wherever it comes from). */
const RESPONSE_TYPES: ReadonlyMap<string, readonly string[] | undefined> = new Map([
  ['Response', ['express', 'express-serve-static-core']],
  ['NextApiResponse', undefined],
  ['FastifyReply', undefined],
  ['ServerResponse', undefined],
]);
/** Names of a request parameter and of a response parameter, for handlers registered elsewhere. */
const REQUEST_NAME = /^_?(req|request)$/;
const RESPONSE_NAME = /^_?(res|response|reply)$/;
const ERROR_NAME = /^_?(err|error|e|ex)$/;

/** The facts of a file: its imports (ES and top-level `require`), Fastify, the Next.js API route path. */
export function fileFacts(program: ESTree.Program, filename: string): FileFacts {
  const imports = new Map<string, string>();
  for (const statement of program.body) {
    if (statement.type === 'ImportDeclaration' && typeof statement.source.value === 'string') {
      for (const specifier of statement.specifiers) imports.set(specifier.local.name, statement.source.value);
    }
    if (statement.type !== 'VariableDeclaration') continue;
    for (const declarator of statement.declarations) {
      const source = requiredModule(declarator.init);
      if (source === undefined) continue;
      if (declarator.id.type === 'Identifier') imports.set(declarator.id.name, source);
      if (declarator.id.type === 'ObjectPattern') {
        for (const property of declarator.id.properties) if (property.type === 'Property' && property.value.type === 'Identifier') imports.set(property.value.name, source);
      }
    }
  }
  const fastify = [...imports.values()].some((source) => source === 'fastify' || source === 'fastify-plugin' || source.startsWith('@fastify/'));
  return { imports, fastify, nextApiRoute: /[\\/]pages[\\/]api[\\/]/.test(filename) };
}

/** `require('x')` or `require('x').y`: the module name. */
function requiredModule(init: ESTree.Node | null | undefined): string | undefined {
  let node = init ?? undefined;
  if (node?.type === 'MemberExpression') node = node.object;
  if (node?.type !== 'CallExpression' || node.callee.type !== 'Identifier' || node.callee.name !== 'require') return undefined;
  const arg = node.arguments[0];
  return arg?.type === 'Literal' && typeof arg.value === 'string' ? arg.value : undefined;
}

/** The identifier a parameter binds (`res`, `res = x`, TypeScript's `private res`), if it binds one name. */
export function paramIdentifier(param: ESTree.Node): ESTree.Identifier | undefined {
  let node = param as ESTree.Node & { parameter?: ESTree.Node };
  if ((node.type as string) === 'TSParameterProperty' && node.parameter !== undefined) node = node.parameter;
  if (node.type === 'AssignmentPattern') node = node.left;
  return node.type === 'Identifier' ? node : undefined;
}

/** A TypeScript type annotation's name: `Response`, `express.Response`, `NextApiResponse<Data>` → its parts. */
function typeName(param: ESTree.Identifier): string[] | undefined {
  const annotation = (param as { typeAnnotation?: { typeAnnotation?: { type: string; typeName?: TypeNameNode } } }).typeAnnotation?.typeAnnotation;
  if (annotation?.type !== 'TSTypeReference' || annotation.typeName === undefined) return undefined;
  const parts: string[] = [];
  let name: TypeNameNode | undefined = annotation.typeName;
  while (name !== undefined) {
    if (name.type === 'Identifier' && name.name !== undefined) return [name.name, ...parts];
    if (name.type !== 'TSQualifiedName' || name.right?.name === undefined) return undefined;
    parts.unshift(name.right.name);
    name = name.left;
  }
  return undefined;
}

/** typescript-eslint's type-name node, as far as this file reads it. */
interface TypeNameNode {
  readonly type: string;
  readonly name?: string;
  readonly left?: TypeNameNode;
  readonly right?: { readonly name?: string };
}

/** Whether a parameter's declared type is a response (`Response` from Express, `NextApiResponse`, `FastifyReply`, `ServerResponse`). */
function isResponseType(param: ESTree.Identifier, file: FileFacts): boolean {
  const parts = typeName(param);
  const last = parts?.at(-1);
  if (parts === undefined || last === undefined || !RESPONSE_TYPES.has(last)) return false;
  const sources = RESPONSE_TYPES.get(last);
  if (sources === undefined) return true;
  // `Response` alone is also the fetch API's: only Express's counts.
  const origin = parts.length === 1 ? file.imports.get(last) : parts[0] === 'Express' ? 'express' : file.imports.get(parts[0] ?? '');
  return origin !== undefined && sources.includes(origin);
}

/** NestJS parameter decorators: `@Res()`/`@Response()` → 'response', `@Next()` → 'next'. */
function decoratedRole(param: ESTree.Node): 'response' | 'next' | undefined {
  const decorators = (param as { decorators?: readonly { expression: ESTree.Node }[] }).decorators ?? [];
  for (const { expression } of decorators) {
    const callee = expression.type === 'CallExpression' ? expression.callee : expression;
    const name = callee.type === 'Identifier' ? callee.name : undefined;
    if (name === 'Res' || name === 'Response') return 'response';
    if (name === 'Next') return 'next';
  }
  return undefined;
}

/** How a function is registered, read from where it stands: Express/Connect (or a Fastify route method), node:http, a Fastify route option or hook. */
type Registration = 'express' | 'node' | 'fastify' | 'fastify-hook';

/** Whether a call registers its function arguments as handlers, and how. */
export function registrationOf(call: ESTree.CallExpression, argIndex: number): Registration | undefined {
  const callee = unwrap(call.callee);
  if (callee.type === 'Identifier') return callee.name === 'createServer' ? 'node' : undefined;
  if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier') return undefined;
  const method = callee.property.name;
  if (method === 'createServer') return 'node';
  if (method === 'use') return 'express';
  if (method === 'addHook') return 'fastify-hook';
  if ((method === 'on' || method === 'once') && isLiteral(call.arguments[0], 'request')) return 'node';
  if (!ROUTE_METHODS.has(method)) return undefined;
  // app.get(path, handler) or app.route(path).get(handler); app.get('setting') has no handler.
  const object = unwrap(callee.object);
  const onRoute = object.type === 'CallExpression' && unwrap(object.callee).type === 'MemberExpression';
  return argIndex > 0 || onRoute ? 'express' : undefined;
}

/** Whether a node is the string literal `value`. */
function isLiteral(node: ESTree.Node | undefined, value: string): boolean {
  return node?.type === 'Literal' && node.value === value;
}

/**
 * How a function expression is registered, from its place: an argument of a registering call
 * (directly, in an array, or wrapped once as in `asyncHandler(fn)`), or a Fastify route option.
 */
function placeOf(fn: Linked): Registration | undefined {
  let child: Linked = fn;
  let parent = fn.parent;
  for (let depth = 0; depth < 3 && parent !== undefined; depth++) {
    if (parent.type === 'CallExpression' && parent.callee !== child) {
      const found = registrationOf(parent, parent.arguments.indexOf(child as ESTree.Expression));
      if (found !== undefined) return found;
    } else if (parent.type === 'Property' && parent.value === child) {
      // fastify.route({ handler }), fastify.get(path, { preHandler, handler }), a route module's { handler }.
      const key = parent.key.type === 'Identifier' ? parent.key.name : undefined;
      if (key === undefined || !FASTIFY_KEYS.has(key) || parent.parent?.type !== 'ObjectExpression') return undefined;
      return key === 'handler' ? 'fastify' : 'fastify-hook';
    } else if (parent.type !== 'ArrayExpression' && parent.type !== 'CallExpression') {
      return undefined;
    }
    child = parent;
    parent = parent.parent;
  }
  return undefined;
}

/**
 * Whether a function is handed to a method that registers no HTTP handler (`ldapServer.search(dn,
 * (req, res) => …)`, `cache.get(key, (req, res) => …)`): its `res` is someone else's. A plain
 * wrapper call (`catchAsync(async (req, res) => …)`) does not count.
 */
function passedToOtherMethod(fn: Linked): boolean {
  const parent = fn.parent;
  return parent?.type === 'CallExpression' && parent.callee !== fn && unwrap(parent.callee).type === 'MemberExpression';
}

/** Whether a function is the default export of its file, directly or wrapped once (`export default withAuth(fn)`). */
function isDefaultExport(fn: Linked): boolean {
  const parent = fn.parent;
  if (parent?.type === 'ExportDefaultDeclaration') return true;
  return parent?.type === 'CallExpression' && parent.parent?.type === 'ExportDefaultDeclaration';
}

/** The roles by position for a registered handler: `(req, res, next)`, or `(err, req, res, next)`. */
function byPosition(params: readonly (ESTree.Identifier | undefined)[], how: Registration, file: FileFacts): Roles | undefined {
  if (params.length < 2) return undefined;
  if (how !== 'express') {
    const response = params[1];
    return response === undefined ? undefined : { responses: [response], nexts: [], sendsReturn: how === 'fastify' };
  }
  // cache.get(key, (err, value) => …) registers no handler: an Express handler starts with the request (or has four parameters).
  if (params.length < 4 && ERROR_NAME.test(params[0]?.name ?? '')) return undefined;
  const errorHandler = params.length >= 4 && !REQUEST_NAME.test(params[0]?.name ?? '');
  const response = params[errorHandler ? 2 : 1];
  const next = params[errorHandler ? 3 : 2];
  if (response === undefined) return undefined;
  return { responses: [response], nexts: next === undefined ? [] : [next], sendsReturn: file.fastify || response.name === 'reply' };
}

/** The roles by name, for handlers registered in another file: `(req, res, next)`, `(err, req, res, next)`, `(request, reply)`. */
function byName(params: readonly (ESTree.Identifier | undefined)[], file: FileFacts): Roles | undefined {
  const offset = ERROR_NAME.test(params[0]?.name ?? '') && params.length >= 3 ? 1 : 0;
  const request = params[offset];
  const response = params[offset + 1];
  if (request === undefined || response === undefined || !REQUEST_NAME.test(request.name) || !RESPONSE_NAME.test(response.name)) return undefined;
  const next = params[offset + 2];
  return { responses: [response], nexts: next !== undefined && /^_?next$/.test(next.name) ? [next] : [], sendsReturn: file.fastify || response.name === 'reply' };
}

/** The roles of a function's parameters, or undefined when none is a response. */
export function rolesOf(fn: FunctionNode, file: FileFacts, registeredAs?: Registration): Roles | undefined {
  const params = fn.params.map(paramIdentifier);
  // NestJS decorators and declared types name the parameter outright.
  const responses: ESTree.Identifier[] = [];
  const nexts: ESTree.Identifier[] = [];
  fn.params.forEach((param, index) => {
    const id = params[index];
    if (id === undefined) return;
    const role = decoratedRole(param) ?? (isResponseType(id, file) ? 'response' : undefined);
    if (role === 'response') responses.push(id);
    if (role === 'next' || typeName(id)?.at(-1) === 'NextFunction') nexts.push(id);
  });
  if (responses.length > 0) return { responses, nexts, sendsReturn: responses.some((id) => typeName(id)?.at(-1) === 'FastifyReply') && placeOf(fn as Linked) !== 'fastify-hook' };
  const how = registeredAs ?? placeOf(fn as Linked);
  if (how !== undefined) return byPosition(params, how, file);
  if (file.nextApiRoute && isDefaultExport(fn as Linked)) return byPosition(params, 'node', file);
  return passedToOtherMethod(fn as Linked) ? undefined : byName(params, file);
}

/** Whether a variable's initializer is a NestJS `getResponse()` call (`host.switchToHttp().getResponse<Response>()`). */
export function isGetResponse(init: ESTree.Node | null | undefined): boolean {
  if (init === null || init === undefined) return false;
  const node = unwrap(init.type === 'AwaitExpression' ? init.argument : init);
  if (node.type !== 'CallExpression') return false;
  const callee = unwrap(node.callee);
  return callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier' && callee.property.name === 'getResponse';
}

export type { Registration };
