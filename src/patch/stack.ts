/**
 * The stacks the app sees through the guard (docs/log-contract.md, "Stacks"). V8 has no way to
 * call a JavaScript hook without that hook's frame being on the stack, so every wrapper the guard
 * puts between a caller and an original (a response method, a router Layer's entry, the `next`
 * handed to a handler) is one frame. What this file guarantees instead:
 * - no frame is lost: while a guard frame runs, `Error.stackTraceLimit` is one higher, so an
 *   error created below it still captures every frame it would capture without the guard (plus
 *   the guard's own, and as many more of the app's at the bottom as the guard frames deeper down
 *   than the app's limit reaches; the limit cannot know where an error will be created);
 * - an error that travels through Express's `next(err)` (a handler's throw, a rejected promise,
 *   Node's ERR_HTTP_HEADERS_SENT from a second send) gets the guard's frames taken out of its
 *   `stack` when the stack is first read, and is cut back to the app's limit, so it reads
 *   exactly as without the guard;
 * - every guard frame left anywhere else is at a real position (patch/wrapper.ts says where).
 */
import { isError } from '../errors.js';
import { isOwnFrame, parseFrame } from '../report/callsite.js';

/**
 * How many guard frames have the limit raised right now (`n`), and the app's own limit when the
 * first of them raised it (`base`): what an error's stack is cut back to once the guard's frames
 * are taken out of it. Shared with the compiled wrappers (patch/wrapper.ts), which keep it too.
 */
export const raised = { n: 0, base: 10 };

/** Whether `Error.stackTraceLimit` can be raised: false once a write failed (a frozen Error). */
let limitWritable = true;

/**
 * Raise `Error.stackTraceLimit` by one for a guard frame that is about to call on; returns the
 * limit to put back, or undefined when it was left alone (not a finite number, or read-only).
 */
export function raiseLimit(): number | undefined {
  if (!limitWritable) return undefined;
  const limit = Error.stackTraceLimit;
  if (typeof limit !== 'number' || limit === Infinity) return undefined;
  try {
    Error.stackTraceLimit = limit + 1;
  } catch {
    // Read-only (Object.freeze(Error), --frozen-intrinsics): frames are then as they come.
    limitWritable = false;
    return undefined;
  }
  if (raised.n++ === 0) raised.base = limit;
  return limit;
}

/** Put back what raiseLimit changed, unless the app set another limit meanwhile. */
export function lowerLimit(limit: number | undefined): void {
  if (limit === undefined) return;
  raised.n--;
  if (Error.stackTraceLimit === limit + 1) Error.stackTraceLimit = limit;
}

/**
 * A stack string without the lines of the guard's own frames, and with at most `limit` frame
 * lines (the frames it has beyond them are there only because the guard raised the limit);
 * anything else unchanged.
 */
export function withoutOwnFrames(stack: unknown, limit: number): unknown {
  if (typeof stack !== 'string' || stack.length > 100_000) return stack;
  const lines = stack.split('\n');
  let frames = 0;
  const kept = lines.filter((line) => {
    if (!line.startsWith('    at ')) return true;
    const frame = parseFrame(line);
    if (frame !== undefined && isOwnFrame(frame)) return false;
    return ++frames <= limit;
  });
  return kept.length === lines.length ? stack : kept.join('\n');
}

/** V8's own `stack` accessor (one getter for every error), where V8 has one (Node 21 and later). */
const nativeStack = Object.getOwnPropertyDescriptor(new Error(), 'stack');

/** Errors whose `stack` reads through withoutOwnFrames already. */
const hidden = new WeakSet<object>();

/**
 * Make an error's `stack` read without the guard's frames, lazily: V8 formats a stack the first
 * time it is read (with the app's Error.prepareStackTrace and source maps, as always), so this
 * only wraps V8's own `stack` accessor; nothing is formatted until the app reads it. Where V8
 * keeps `stack` as a data property (Node 20), the stack is formatted now and written back.
 * Anything else (a plain object, a stack replaced by the app) is left alone. Never throws.
 */
export function hideOwnFrames(error: unknown): void {
  if (!isError(error) || hidden.has(error)) return;
  try {
    const descriptor = Object.getOwnPropertyDescriptor(error, 'stack');
    if (descriptor === undefined || descriptor.configurable !== true) return;
    hidden.add(error);
    // The app's own limit: what the stack had without the guard's raises.
    const limit = raised.n === 0 ? Error.stackTraceLimit : raised.base;
    const keep = typeof limit === 'number' && limit >= 0 ? limit : Infinity;
    const read = descriptor.get;
    if (read === undefined) {
      // V8's data property (Node 20): formatted already by this read, so written back now.
      if (nativeStack?.get === undefined && descriptor.writable === true && typeof descriptor.value === 'string') error.stack = withoutOwnFrames(descriptor.value, keep) as string;
      return;
    }
    // An accessor the app or a library defined is theirs.
    if (read !== nativeStack?.get) return;
    let value: unknown;
    let known = false;
    Object.defineProperty(error, 'stack', {
      configurable: true,
      enumerable: descriptor.enumerable === true,
      get(): unknown {
        if (!known) {
          value = withoutOwnFrames(read.call(error), keep);
          known = true;
        }
        return value;
      },
      set(stack: unknown): void {
        value = stack;
        known = true;
      },
    });
  } catch {
    // A frozen or exotic error keeps its stack as it is.
  }
}
