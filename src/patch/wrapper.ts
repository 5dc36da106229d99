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
 * guard. (Compiled once per method, each wrapper also keeps its own type feedback.)
 *
 * Where a wrapper's frame points: V8 cannot leave a hook's frame off the stack, so each wrapper
 * is one frame while the original runs (patch/stack.ts: the limit raised, and taken out again
 * from errors that travel through Express's next). That frame is put at a real position, never
 * at lines the file does not hold: the wrapper calls the original from one single call
 * expression, and it is compiled with line and column offsets so that this call sits
 *   - for a library's method, exactly where the original function's source starts in the
 *     library's file (found by its text): `ServerResponse.send (express/lib/response.js:L:C)`
 *     names the line that defines `send`;
 *   - for Node's own methods (or a library method whose source is not in its file, as when an
 *     instrumentation wrapped it first), where the call is written in this file, the template
 *     below: `ServerResponse.setHeader (header-guard/dist/patch/wrapper.js:L:C)`. depd then sees
 *     this file, as it would see the instrumentation's file without the guard;
 *   - only if this file cannot be read or no longer holds the template (an unusual bundle), in a
 *     script named `header-guard:wrapper`, which is a name, not a path.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { markOwnScript } from '../report/callsite.js';
import type { AnyFunction, GuardedResponse, ResponseState } from '../state.js';
import { kState } from '../symbols.js';
import { lowerLimit, raiseLimit, raised } from './stack.js';

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
 * The wrapper's source; `NAME` and `BEFORE_CALL` are filled in per method. It calls the original
 * from one place (the line with `call(original`), so its frame has one position (see the header
 * comment). Only a contained call catches (`contained`): a catch that rethrows would move the
 * place Node prints above an uncaught error (its "throw" line) from Node's own code to this one,
 * and log mode must not change that either; `finally` keeps it. Sloppy mode on purpose: a
 * read-only Error.stackTraceLimit makes the raise a silent no-op, never a TypeError.
 */
const SOURCE = `const wrapper = function NAME() {
  let state = this == null ? undefined : this[kState];
  if (state === undefined) state = adopt(this);
  const step = state === undefined ? 0 : BEFORE_CALL;
  const call = (step & 32) === 0 ? apply : contained;
  const limit = E.stackTraceLimit;
  const raised = typeof limit === 'number' ? limit + 1 : limit;
  if (raised !== limit) { if (D.n++ === 0) D.base = limit; E.stackTraceLimit = raised; }
  let threw = true;
  try {
    const result =
      call(original, this, (step & 8) === 0 ? arguments : state.args, state, wrapper);
    threw = false;
    return result;
  } finally {
    if (raised !== limit) { D.n--; if (E.stackTraceLimit === raised) E.stackTraceLimit = limit; }
    if (step !== 0) after(state, this, wrapper, step, threw);
  }
};
return wrapper;`;

/** The parameters the compiled source sees. */
const PARAMETERS = ['kState', 'adopt', 'original', 'before', 'after', 'contained', 'apply', 'E', 'D'];

/** The source's lines, and which one holds the call of the original. */
const LINES = SOURCE.split('\n');
const CALL_LINE = LINES.findIndex((line) => line.includes('call(original'));

/** The name of the script wrappers are compiled in when no file can hold them (header comment). */
const NAMED_SCRIPT = 'header-guard:wrapper';

/** Where a wrapper is compiled: the file name, and the line and column its call of the original has there (1-based). */
interface Placement {
  file: string;
  line: number;
  column: number;
}

/** The text of each file read so far (undefined: unreadable). */
const texts = new Map<string, string | undefined>();

/** A file's text, read once. */
function textOf(file: string): string | undefined {
  if (!texts.has(file)) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    texts.set(file, text);
  }
  return texts.get(file);
}

/** Line and column (1-based) of a character offset in a text (V8 counts lines at \n, \r\n and \r). */
function positionAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split(/\r\n|\r|\n|\u2028|\u2029/);
  return { line: before.length, column: (before[before.length - 1] ?? '').length + 1 };
}

/** Where the source of `fn` starts in `file`, if the file holds it verbatim. */
function definitionOf(fn: AnyFunction, file: string): Placement | undefined {
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return undefined;
  }
  const text = textOf(file);
  const offset = text === undefined || source.length < 12 ? -1 : text.indexOf(source);
  return offset === -1 ? undefined : { file, ...positionAt(text!, offset) };
}

/**
 * Where the template's call line is written in this module's own file (dist/patch/wrapper.js, a
 * bundle that contains it, or src/patch/wrapper.ts under a TypeScript loader), found once.
 */
const ownPlacement: Placement | undefined = (() => {
  const file = typeof __filename === 'string' ? __filename : undefined;
  const text = file === undefined ? undefined : textOf(file);
  const offset = text === undefined ? -1 : text.indexOf(SOURCE);
  if (offset === -1) return undefined;
  const start = positionAt(text!, offset);
  const line = LINES[CALL_LINE] ?? '';
  return { file: file!, line: start.line + CALL_LINE, column: line.length - line.trimStart().length + 1 };
})();

/**
 * Compile the source so that the call of the original is at `placement`: everything before the
 * call line joined into one line (after `prefix`), then the call line indented to the column,
 * and the rest (then `suffix`).
 */
function compileAt<T>(source: string, placement: Placement | undefined, parameters: string[], prefix = '', suffix = ''): (...parts: unknown[]) => T {
  if (placement === undefined) {
    markOwnScript(NAMED_SCRIPT);
    return vm.compileFunction(`${prefix}${source}${suffix}`, parameters, { filename: NAMED_SCRIPT }) as (...parts: unknown[]) => T;
  }
  const lines = source.split('\n');
  const head = prefix + lines.slice(0, CALL_LINE).map((line) => line.trim()).join(' ');
  const call = ' '.repeat(placement.column - 1) + (lines[CALL_LINE] ?? '').trim();
  const body = [head, call, ...lines.slice(CALL_LINE + 1)].join('\n') + suffix;
  markOwnScript(placement.file, placement.line, placement.column);
  return vm.compileFunction(body, parameters, { filename: placement.file, lineOffset: placement.line - 2 }) as (...parts: unknown[]) => T;
}

/** The source with one method's name and its role's way of calling `before`. */
function sourceFor(spec: Omit<WrapSpec, 'original' | 'file'>): string {
  const name = /^[A-Za-z_$][\w$]*$/.test(spec.name) ? spec.name : 'guarded';
  const beforeCall = spec.beforeWithArguments === undefined
    ? 'before(state, this, wrapper, arguments.length, arguments[0], arguments[1])'
    : 'before(state, this, wrapper, arguments)';
  return SOURCE.replace('NAME', name).replace('BEFORE_CALL', beforeCall);
}

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
 * The call of the original for a call the contain option may contain: Node's ERR_HTTP_HEADERS_SENT
 * is caught and the method returns what it returns; any other error goes on. One more guard
 * frame (in this file), so it raises the limit too.
 */
function containedCall(contain: Contain, containedValue: ContainedValue) {
  return function contained(original: AnyFunction, self: GuardedResponse, args: ArrayLike<unknown>, state: ResponseState): unknown {
    const limit = raiseLimit();
    try {
      return Reflect.apply(original, self, args);
    } catch (error) {
      if (contain(state, self, error)) return containedValue(self);
      throw error;
    } finally {
      lowerLimit(limit);
    }
  };
}

/**
 * Compile a factory of wrappers for one method name and role: each call wraps one more function
 * (a per-response wrapper a framework assigned, patch/instance.ts) without compiling again. Its
 * wrappers' frames are where the call is written in this file, as the wrappers of Node's methods.
 */
export function compileWrapperFactory(spec: Omit<WrapSpec, 'original' | 'file'>): (original: AnyFunction) => AnyFunction {
  const parameters = PARAMETERS.filter((parameter) => parameter !== 'original');
  const factory = compileAt<(original: AnyFunction) => AnyFunction>(sourceFor(spec), ownPlacement, parameters, 'return function (original) { ', '\n};');
  const contained = containedCall(spec.contain, spec.containedValue);
  return factory(kState, spec.adopt, spec.beforeWithArguments ?? spec.before, spec.after, contained, Reflect.apply, Error, raised);
}

/** Compile the wrapper of one method (once per prototype and method). */
export function compileWrapper(spec: WrapSpec): AnyFunction {
  const placement = (spec.file === undefined ? undefined : definitionOf(spec.original, spec.file)) ?? ownPlacement;
  const factory = compileAt<AnyFunction>(sourceFor(spec), placement, PARAMETERS);
  const contained = containedCall(spec.contain, spec.containedValue);
  const wrapper = factory(kState, spec.adopt, spec.original, spec.beforeWithArguments ?? spec.before, spec.after, contained, Reflect.apply, Error, raised);
  Object.defineProperty(wrapper, 'name', { value: spec.name });
  Object.defineProperty(wrapper, 'length', { value: spec.original.length });
  return wrapper;
}
