/**
 * The one shape every guarded method has: look up the response's state, ask the method's role
 * what to do (`before`), run the original, let the role record what changed (`after`). The
 * roles (patch/response.ts, patch/body.ts) hold the logic; this file only builds the wrappers.
 *
 * Why the wrappers are compiled, not plain closures: libraries read the stack to find their
 * caller. depd (Express 4's deprecation warnings) walks out of the file that called it and names
 * the first frame beyond; a wrapper frame from header-guard's own file in between would be named
 * instead of the user's line, and since depd warns once per call site, later deprecated calls
 * would go unreported. So a wrapper of a library's method is compiled under that library's file
 * name (the module whose exports own the method), and depd sees the same stack as without the
 * guard. Its frames are the first lines of that script (README, "How it works"); reports treat
 * them as the guard's own (callsite.ts). Wrappers of Node's own methods use the guard's file name.
 */
import { join } from 'node:path';
import vm from 'node:vm';
import { markOwnScript } from '../report/callsite.js';
import type { AnyFunction, GuardedResponse, ResponseState } from '../state.js';
import { kState } from '../symbols.js';

/** Step bits a role's `before` returns; `PASS` runs the original with nothing after. */
export const PASS = 0;
/** Run the original, then the role's `after`. */
export const RUN = 1;
/** This call is the outermost guarded call: `after` ends it. */
export const OUTER = 2;
/** A reported late call running on: the calls it makes are its own (`after` ends the quiet). */
export const QUIET = 4;
/** Run the original with `state.args` (an async body call's arguments, its callback wrapped). */
export const ARGS = 8;
/** A body call: the calls it makes are its own (`after` ends it). */
export const BODY = 16;
/** Contain Node's ERR_HTTP_HEADERS_SENT from this call (the contain option). */
export const CONTAIN = 32;

/** What a method's role does before the original runs: returns step bits, or throws (throw mode). */
export type Before = (state: ResponseState, self: GuardedResponse, wrapper: AnyFunction, argc: number, first: unknown, second: unknown) => number;
/** The same, for roles that need every argument (async body calls rewrite their callback). */
export type BeforeWithArguments = (state: ResponseState, self: GuardedResponse, wrapper: AnyFunction, args: IArguments) => number;
/** A response with no state: the preload's guard may adopt it (attach.ts). */
export type Adopt = (self: GuardedResponse) => ResponseState | undefined;
/** What a role records after the original ran (or threw); never throws. */
export type After = (state: ResponseState, self: GuardedResponse, wrapper: AnyFunction, step: number, threw: boolean) => void;
/** A contained late call threw: whether the error is contained (true: the call then returns normally). */
export type Contain = (state: ResponseState, self: GuardedResponse, error: unknown) => boolean;
/** What the method returns when its call is contained: `this`, undefined or false, as the original does. */
export type ContainedValue = (self: GuardedResponse) => unknown;

/**
 * The wrapper's source; `NAME` and `BEFORE_CALL` are filled in per method. Only a contained call
 * catches: a catch that rethrows would move the place Node prints above an uncaught error (its
 * "throw" line) from Node's own code to this one, and log mode must not change that either.
 */
const SOURCE = `const wrapper = function NAME() {
  let state = this == null ? undefined : this[kState];
  if (state === undefined && (state = adopt(this)) === undefined) return original.apply(this, arguments);
  const step = BEFORE_CALL;
  if (step === 0) return original.apply(this, arguments);
  let threw = true;
  if ((step & 32) !== 0) {
    try {
      const result = original.apply(this, (step & 8) === 0 ? arguments : state.args);
      threw = false;
      return result;
    } catch (error) {
      if (contain(state, this, error)) {
        threw = false;
        return containedValue(this);
      }
      throw error;
    } finally {
      after(state, this, wrapper, step, threw);
    }
  }
  try {
    const result = original.apply(this, (step & 8) === 0 ? arguments : state.args);
    threw = false;
    return result;
  } finally {
    after(state, this, wrapper, step, threw);
  }
};
return wrapper;`;

/** How many lines the compiled script has: its frames are lines 1 to this of their file. */
const SOURCE_LINES = SOURCE.split('\n').length;

/**
 * The file name wrappers of Node's own methods are compiled under: one of the guard's own, but
 * not this file, whose source map (under tsx, or --enable-source-maps) would map their lines to
 * unrelated lines of this file. Inside an ES-module bundle there is no __dirname: a name that is
 * no path then (reports never show it: callsite.ts knows the script as the guard's).
 */
const OWN_FILE = typeof __dirname === 'string' ? join(__dirname, 'compiled-wrapper.js') : 'header-guard/compiled-wrapper.js';

/** A method to wrap: its name, original, and role hooks. */
export interface WrapSpec {
  name: string;
  original: AnyFunction;
  /** Exactly one of the two. */
  before?: Before;
  beforeWithArguments?: BeforeWithArguments;
  after: After;
  adopt: Adopt;
  contain: Contain;
  containedValue: ContainedValue;
  /** The file of the module that defines the method, when known (see the header comment). */
  file: string | undefined;
}

/**
 * Compile a factory of wrappers for one method name and role: each call wraps one more function
 * (a per-response wrapper a framework assigned, patch/instance.ts) without compiling again. Its
 * frames are lines 1 to SOURCE_LINES of the guard's own file, as the prototypes' wrappers of
 * Node's methods are.
 */
export function compileWrapperFactory(spec: Omit<WrapSpec, 'original' | 'file'>): (original: AnyFunction) => AnyFunction {
  const name = /^[A-Za-z_$][\w$]*$/.test(spec.name) ? spec.name : 'guarded';
  const beforeCall = spec.beforeWithArguments === undefined
    ? 'before(state, this, wrapper, arguments.length, arguments[0], arguments[1])'
    : 'before(state, this, wrapper, arguments)';
  // One line, so that the factory's frames keep the lines of SOURCE.
  const source = `return function (original) { ${SOURCE.replace('NAME', name).replace('BEFORE_CALL', beforeCall)} };`;
  markOwnScript(OWN_FILE, SOURCE_LINES);
  const factory = vm.compileFunction(source, ['kState', 'adopt', 'before', 'after', 'contain', 'containedValue'], { filename: OWN_FILE }) as (...parts: unknown[]) => (original: AnyFunction) => AnyFunction;
  return factory(kState, spec.adopt, spec.beforeWithArguments ?? spec.before, spec.after, spec.contain, spec.containedValue);
}

/** Compile the wrapper of one method (once per prototype and method). */
export function compileWrapper(spec: WrapSpec): AnyFunction {
  const name = /^[A-Za-z_$][\w$]*$/.test(spec.name) ? spec.name : 'guarded';
  const beforeCall = spec.beforeWithArguments === undefined
    ? 'before(state, this, wrapper, arguments.length, arguments[0], arguments[1])'
    : 'before(state, this, wrapper, arguments)';
  const source = SOURCE.replace('NAME', name).replace('BEFORE_CALL', beforeCall);
  const filename = spec.file ?? OWN_FILE;
  markOwnScript(filename, SOURCE_LINES);
  const factory = vm.compileFunction(source, ['kState', 'adopt', 'original', 'before', 'after', 'contain', 'containedValue'], { filename }) as (...parts: unknown[]) => AnyFunction;
  const wrapper = factory(kState, spec.adopt, spec.original, spec.beforeWithArguments ?? spec.before, spec.after, spec.contain, spec.containedValue);
  Object.defineProperty(wrapper, 'name', { value: spec.name });
  Object.defineProperty(wrapper, 'length', { value: spec.original.length });
  return wrapper;
}
