/**
 * Per-response wrappers: functions a framework assigns to one response object over a guarded
 * method (Next.js's `res.setHeader`, compression's `res.write` and `res.end`, on-headers'
 * `res.writeHead`). Such a wrapper runs before the prototype's method, and may drop a late call
 * before it gets there (Next.js's `setHeader` returns at once once the headers are out), so the
 * prototype's wrapper alone would never see it.
 *
 * The mechanism: each guarded method on its owner prototype is an accessor whose getter returns
 * the guard's wrapper and whose setter sees the assignment. `res.setHeader = fn` then gives the
 * response its own `setHeader`, as the assignment would, holding `fn` wrapped with the same role
 * as the prototype's method: the late call is seen and reported there, then `fn` runs as it
 * would without the guard (same return, same throw, same drop); the prototype's wrapper that
 * `fn` may call is part of that call (the roles' depth and quiet counts). The response's own
 * property is an accessor too, shared by all responses, so a second assignment over the first
 * (Next.js assigns `setHeader` twice, from two copies of its server) is observed as well; the
 * functions live in one object under a private symbol. A response with no assignment costs one
 * inlined getter per method read.
 *
 * Frameworks without Express's prototype may give each response Express-like answer methods of
 * its own (Next.js's API routes: `res.status()`, `res.send()`, `res.json()`, `res.redirect()`).
 * No prototype owns those names, so no accessor sees them assigned; they are wrapped in place
 * when the response's headers go out (adoptAnswerMethods), so that a second answer is a double
 * send, reported once, as on Express.
 *
 * What reads differently: `res.setHeader` holds the guard's wrapper, not `fn` itself (same name
 * and length), and its own property descriptor is an accessor, not a value. Functions that
 * already are the guard's wrappers are stored as they are, so that restoring a saved method
 * keeps its identity.
 */
import { hasOwn, trace, type AnyFunction } from '../state.js';
import { kAssigned } from '../symbols.js';

/** Every wrapper the guard made (prototype and per-response): assigned back, they are stored as they are. */
const guardWrappers = new WeakSet<object>();

/** Wrap a function assigned to a response with its method's role, keeping its name and length. */
export function wrapAssigned(value: unknown, factory: (original: AnyFunction) => AnyFunction): unknown {
  if (typeof value !== 'function' || guardWrappers.has(value)) return value;
  const original = value as AnyFunction;
  const wrapper = factory(original);
  try {
    Object.defineProperty(wrapper, 'name', { value: original.name });
    Object.defineProperty(wrapper, 'length', { value: original.length });
  } catch (error) {
    // A function whose name or length cannot be read (a revoked proxy): the wrapper keeps its own.
    trace('could not copy the name of an assigned method: %O', error);
  }
  guardWrappers.add(wrapper);
  return wrapper;
}

/** A response's assigned functions, by method name (under kAssigned). */
type Assigned = Record<string, unknown>;

/** Where a response (or any object below a guarded prototype) keeps what was assigned to it. */
function assignedOf(target: object): Assigned | undefined {
  return (target as { [kAssigned]?: Assigned })[kAssigned];
}

/** Keep `stored` as `target`'s own `name`, behind the shared own accessor of that name. */
function assignOwn(target: object, name: string, stored: unknown, own: PropertyDescriptor): void {
  let slots = hasOwn(target, kAssigned) ? assignedOf(target) : undefined;
  if (slots === undefined) {
    slots = Object.create(null) as Assigned;
    Object.defineProperty(target, kAssigned, { value: slots, writable: true, enumerable: false, configurable: true });
  }
  slots[name] = stored;
  const existing = Object.getOwnPropertyDescriptor(target, name);
  if (existing?.get === own.get) return;
  // What the assignment itself does, but observed: a writable, enumerable, configurable own
  // property (a TypeError on an object that cannot take one, as in strict code).
  Object.defineProperty(target, name, own);
}

/**
 * Make a guarded method of its owner prototype observe assignments (see the header comment):
 * `wrapper` is the prototype's wrapper, `factory` wraps an assigned function with the same role.
 */
export function defineAssignable(proto: object, name: string, descriptor: PropertyDescriptor, wrapper: AnyFunction, factory: (original: AnyFunction) => AnyFunction): void {
  if (descriptor.configurable !== true) {
    // It cannot become an accessor: the prototype's wrapper alone, as a data property.
    Object.defineProperty(proto, name, { ...descriptor, value: wrapper });
    return;
  }
  guardWrappers.add(wrapper);
  let current: unknown = wrapper;
  /** Both accessors' setter: on the owner the method changes for all; anywhere below, for that object. */
  function set(this: unknown, value: unknown): void {
    const stored = wrapAssigned(value, factory);
    if (this === proto) current = stored;
    else if (this !== null && (typeof this === 'object' || typeof this === 'function')) assignOwn(this, name, stored, own);
  }
  /** The accessor a response gets at its first assignment: one per name, shared, so that V8 shares the hidden classes too. */
  const own: PropertyDescriptor = {
    get(this: object): unknown {
      return assignedOf(this)?.[name];
    },
    set,
    enumerable: true,
    configurable: true,
  };
  Object.defineProperty(proto, name, {
    get(): unknown {
      return current;
    },
    set,
    enumerable: descriptor.enumerable === true,
    configurable: true,
  });
}

/** Express's answer methods that a framework without Express's prototype may assign to each response. */
const ANSWER_METHODS = ['status', 'send', 'json', 'redirect'];

/** The factory of wrappers for a method name's role (prototypes.ts sets it: the roles live there). */
let factoryFor: (name: string) => ((original: AnyFunction) => AnyFunction) | undefined = () => undefined;

/** Say where the factories of the answer methods' wrappers come from (prototypes.ts, at load). */
export function setAnswerFactories(factories: typeof factoryFor): void {
  factoryFor = factories;
}

/**
 * At the flush: wrap the answer methods a response holds as its own plain functions (header
 * comment), each with the role of Express's method of that name. One own-property test on a
 * response that has none (every Express response: its `json` is its prototype's).
 */
export function adoptAnswerMethods(res: object): void {
  if (!hasOwn(res, 'json')) return;
  for (const name of ANSWER_METHODS) {
    const descriptor = Object.getOwnPropertyDescriptor(res, name);
    if (descriptor === undefined || typeof descriptor.value !== 'function' || descriptor.writable !== true || guardWrappers.has(descriptor.value as object)) continue;
    const factory = factoryFor(name);
    if (factory !== undefined) Object.defineProperty(res, name, { value: wrapAssigned(descriptor.value, factory) });
  }
}
