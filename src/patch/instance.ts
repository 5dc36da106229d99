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
 * Node's ServerResponse.prototype gets the same accessor for those four names, with nothing
 * behind it (`res.json` still reads undefined on a plain response; only `'json' in res` is now
 * true), so that such a method is guarded from its first call: the first answer is recorded
 * where the user made it, and a second one is a double send, reported once, as on Express.
 * Those accessors wrap only on a response the guard watches, or that the preload adopts then
 * (attach.ts: a request that came before the preload subscribed, as while Next.js still loads
 * instrumentation.ts); anywhere else (Express's own prototype, which assigns its methods when it
 * loads) the assignment is made as it would be.
 *
 * What reads differently: `res.setHeader` holds the guard's wrapper, not `fn` itself (same name
 * and length), and its own property descriptor is an accessor, not a value. Functions that
 * already are the guard's wrappers are stored as they are, so that restoring a saved method
 * keeps its identity.
 */
import { hasOwn, trace, type AnyFunction } from '../state.js';
import { kAssigned, kState } from '../symbols.js';

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
  defineAccessors(proto, name, wrapper, descriptor.enumerable === true, factory);
}

/**
 * Give Node's ServerResponse.prototype the accessor of an answer method it does not have (header
 * comment): it reads undefined until a function is assigned.
 */
export function defineAbsentAnswer(proto: object, name: string, factory: (original: AnyFunction) => AnyFunction, adopt: (target: object) => unknown): void {
  defineAccessors(proto, name, undefined, false, factory, (target) => hasOwn(target, kState) || adopt(target) !== undefined);
}

/** The owner's accessor and the shared own accessor of one name (see defineAssignable). */
function defineAccessors(proto: object, name: string, initial: unknown, enumerable: boolean, factory: (original: AnyFunction) => AnyFunction, watched?: (target: object) => boolean): void {
  let current: unknown = initial;
  /** Both accessors' setter: on the owner the method changes for all; anywhere below, for that object. */
  function set(this: unknown, value: unknown): void {
    if (this === null || (typeof this !== 'object' && typeof this !== 'function')) return;
    if (watched !== undefined && this !== proto && !watched(this)) {
      // Not a guarded response: exactly what the assignment does without the guard.
      Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
      return;
    }
    const stored = wrapAssigned(value, factory);
    if (this === proto) current = stored;
    else assignOwn(this, name, stored, own);
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
    enumerable,
    configurable: true,
  });
}

