/**
 * Errors of throw mode that a framework swallowed, rethrown once the response is over so that a
 * strict run fails. Express's final handler only closes the connection when the headers are out
 * (patch/router.ts tracks what travels through next()); Fastify drops an error handed to
 * `reply.send()` once the reply was sent, and only logs one an async handler rejects with then
 * (adapters/fastify-reply.ts). An error an app's own error handler keeps is marked `handled`
 * and left alone; each error is rethrown once.
 */
import onFinished from 'on-finished';
import { trace, type ResponseState } from '../state.js';

/**
 * An error of throw mode is on its way into a framework that will swallow it: mark it `passed`,
 * and look at it again once the response is over. `travelling` is what the framework holds (the
 * HeaderGuardError itself, or the app's error it reports); `error` is the HeaderGuardError to
 * rethrow, given the first time.
 */
export function track(state: ResponseState, travelling: unknown, error?: Error): void {
  if (state.pending === undefined) {
    state.pending = new Map();
    onFinished(state.res, () => setImmediate(surfacePending, state));
  }
  const entry = state.pending.get(travelling);
  if (entry === undefined) {
    if (error !== undefined) state.pending.set(travelling, { error, fate: 'passed' });
  } else if (entry.fate !== 'surfaced') {
    entry.fate = 'passed';
  }
}

/** Rethrow, as an uncaught exception, each tracked error still `passed` (not handled by the app). */
function surfacePending(state: ResponseState): void {
  for (const entry of state.pending?.values() ?? []) {
    if (entry.fate !== 'passed') continue;
    entry.fate = 'surfaced';
    trace('rethrowing a violation that the framework swallowed: %s', (entry.error as { violation?: { kind?: string } }).violation?.kind);
    process.nextTick(() => {
      throw entry.error;
    });
  }
}
