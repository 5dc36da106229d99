/**
 * Which methods the guard wraps, and wrapping them: once per prototype, on every prototype of a
 * response that owns one of them (Node's OutgoingMessage and ServerResponse, Express's response),
 * each with the role that checks it. Responses without guard state go straight to the originals.
 */
import { ServerResponse } from 'node:http';
import { adopt } from '../attach.js';
import { trace, type AnyFunction, type GuardedResponse, hasOwn } from '../state.js';
import { kPatched } from '../symbols.js';
import { asyncBodyAfter, asyncBodyBefore, bodyAfter, bodyBefore } from './body.js';
import { containHeadersSent } from './contain.js';
import { endAfter, endBefore, finish, headerBefore, statusBefore, writeAfter, writeBefore, writeHeadAfter, writeHeadBefore } from './response.js';
import { patchStatusCode } from './status-code.js';
import { defineAbsentAnswer, defineAssignable } from './instance.js';
import { compileWrapper, compileWrapperFactory, type After, type Before, type BeforeWithArguments, type ContainedValue, type WrapSpec } from './wrapper.js';

/** What a method returns, for a contained call: the same as the real method, so chains like `res.status(500).json()` keep working. */
type Returns = 'this' | 'undefined' | 'false';

const RETURNS: Record<Returns, ContainedValue> = {
  this: (self) => self,
  undefined: () => undefined,
  false: () => false,
};

/**
 * A role: how a method is checked before it runs and what is recorded after. `assigned` is true
 * for the role of a function assigned to one response (patch/instance.ts): whether a late call
 * reaches Node, and throws there, is then up to that function.
 */
interface Role {
  before?: (name: string, assigned: boolean) => Before;
  beforeWithArguments?: (name: string, assigned: boolean) => BeforeWithArguments;
  after: After;
}

const HEADER: Role = { before: headerBefore, after: finish };
const STATUS: Role = { before: statusBefore, after: finish };
const BODY: Role = { before: bodyBefore, after: bodyAfter };
const ASYNC_BODY: Role = { beforeWithArguments: asyncBodyBefore, after: asyncBodyAfter };
const WRITE_HEAD: Role = { before: writeHeadBefore, after: writeHeadAfter };
const WRITE: Role = { before: writeBefore, after: writeAfter };
const END: Role = { before: endBefore, after: endAfter };

/** The methods the guard wraps, by prototype-owned name: Node's and Express's. */
const METHODS: Record<string, { role: Role; returns: Returns }> = {
  // node:http
  setHeader: { role: HEADER, returns: 'this' },
  appendHeader: { role: HEADER, returns: 'this' },
  removeHeader: { role: HEADER, returns: 'undefined' },
  setHeaders: { role: HEADER, returns: 'this' },
  writeHead: { role: WRITE_HEAD, returns: 'this' },
  write: { role: WRITE, returns: 'false' },
  end: { role: END, returns: 'this' },
  // express
  status: { role: STATUS, returns: 'this' },
  set: { role: HEADER, returns: 'this' },
  header: { role: HEADER, returns: 'this' },
  append: { role: HEADER, returns: 'this' },
  cookie: { role: HEADER, returns: 'this' },
  clearCookie: { role: HEADER, returns: 'this' },
  type: { role: HEADER, returns: 'this' },
  contentType: { role: HEADER, returns: 'this' },
  location: { role: HEADER, returns: 'this' },
  vary: { role: HEADER, returns: 'this' },
  links: { role: HEADER, returns: 'this' },
  attachment: { role: HEADER, returns: 'this' },
  format: { role: HEADER, returns: 'this' },
  send: { role: BODY, returns: 'this' },
  json: { role: BODY, returns: 'this' },
  jsonp: { role: BODY, returns: 'this' },
  sendStatus: { role: BODY, returns: 'this' },
  redirect: { role: BODY, returns: 'undefined' },
  sendFile: { role: ASYNC_BODY, returns: 'undefined' },
  download: { role: ASYNC_BODY, returns: 'undefined' },
  render: { role: ASYNC_BODY, returns: 'undefined' },
};

/**
 * The file of the CommonJS module whose exports are this prototype (Express's lib/response.js),
 * so its methods' wrappers can be compiled under that name (patch/wrapper.ts says why).
 */
function moduleFileOf(proto: object): string | undefined {
  try {
    const cache = typeof require === 'function' ? require.cache : undefined;
    for (const key of Object.keys(cache ?? {})) {
      if (cache?.[key]?.exports === proto) return cache[key]?.filename;
    }
  } catch {
    // No module cache to look in: the guard's own file name is used.
  }
  return undefined;
}

/**
 * The factory of wrappers for functions assigned to a response over `name` (patch/instance.ts),
 * compiled at the first assignment: most processes never make one.
 */
function lazyFactory(name: string, role: Role, returns: Returns): (original: AnyFunction) => AnyFunction {
  let factory: ((original: AnyFunction) => AnyFunction) | undefined;
  return (original) => {
    if (factory === undefined) {
      const spec: Omit<WrapSpec, 'original' | 'file'> = { name, after: role.after, adopt, contain: containHeadersSent, containedValue: RETURNS[returns] };
      if (role.before !== undefined) spec.before = role.before(name, true);
      if (role.beforeWithArguments !== undefined) spec.beforeWithArguments = role.beforeWithArguments(name, true);
      factory = compileWrapperFactory(spec);
    }
    return factory(original);
  };
}

/**
 * Express's answer methods that frameworks without Express's prototype assign to each response
 * (Next.js's API routes): Node's ServerResponse.prototype gets their accessors (patch/instance.ts).
 */
const ANSWER_METHODS = ['status', 'send', 'json', 'redirect'];

/** Wrap the guarded methods one prototype owns. */
function patchPrototype(proto: object): void {
  let file: string | undefined | null = null;
  for (const name of Object.keys(METHODS)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    const spec = METHODS[name];
    if (spec === undefined || descriptor === undefined || typeof descriptor.value !== 'function' || descriptor.writable !== true) continue;
    if (file === null) file = moduleFileOf(proto);
    const wrap: WrapSpec = {
      name,
      original: descriptor.value as AnyFunction,
      after: spec.role.after,
      adopt,
      contain: containHeadersSent,
      containedValue: RETURNS[spec.returns],
      file,
    };
    if (spec.role.before !== undefined) wrap.before = spec.role.before(name, false);
    if (spec.role.beforeWithArguments !== undefined) wrap.beforeWithArguments = spec.role.beforeWithArguments(name, false);
    defineAssignable(proto, name, descriptor, compileWrapper(wrap), lazyFactory(name, spec.role, spec.returns));
  }
  if (proto === ServerResponse.prototype) {
    for (const name of ANSWER_METHODS) {
      const spec = METHODS[name];
      if (spec !== undefined && !(name in proto)) defineAbsentAnswer(proto, name, lazyFactory(name, spec.role, spec.returns), (target) => adopt(target as GuardedResponse));
    }
  }
  patchStatusCode(proto);
}

/** Wrap the guarded methods on `first` and every prototype after it, once per prototype. */
export function patchChain(first: unknown): void {
  if (first === null || typeof first !== 'object' || hasOwn(first, kPatched)) return;
  for (let proto = first as object | null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    if (hasOwn(proto, kPatched)) continue;
    try {
      patchPrototype(proto);
      Object.defineProperty(proto, kPatched, { value: true });
    } catch (error) {
      // A frozen prototype: its methods stay unguarded.
      trace('could not patch a prototype: %O', error);
    }
  }
}

/** The prototype patchPrototypes saw last: nearly every response of an app has the same one. */
let lastPatchedPrototype: unknown;

/** Wrap the guarded methods on every prototype of this response (see patchChain). */
export function patchPrototypes(res: object): void {
  const proto: unknown = Object.getPrototypeOf(res);
  if (proto === lastPatchedPrototype) return;
  patchChain(proto);
  lastPatchedPrototype = proto;
}
