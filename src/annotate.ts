/**
 * The extension point adapters use (adapters/nest.ts): lines added to a response's reports,
 * computed only when a report is built ("handled by OrdersController.findOne (src/...:21)"),
 * and an error a framework keeps from Express's router (Nest's exception handling) reported as
 * `error-after-send` when the response had already been answered. Nothing framework-specific
 * lives here.
 */
import type { ServerResponse } from 'node:http';
import type { HeaderGuardError } from './errors.js';
import { flag, newErrorAfterSend } from './report/flag.js';
import { answered, type AnyFunction, type Annotation, type GuardedResponse, type ResponseState } from './state.js';
import { kState } from './symbols.js';

export type { Annotation } from './state.js';

/** The guard's state of a response, when a guard watches it. */
function stateOf(res: ServerResponse): ResponseState | undefined {
  try {
    return (res as GuardedResponse)[kState];
  } catch {
    return undefined;
  }
}

/**
 * Add lines to every report of this response (internal, for adapters). Returns false when no
 * guard watches the response.
 */
export function annotate(res: ServerResponse, annotation: Annotation): boolean {
  const state = stateOf(res);
  if (state === undefined) return false;
  (state.annotations ??= []).push(annotation);
  return true;
}

/**
 * A framework caught `error` from the handling of a request whose response was already
 * answered: report it as `error-after-send` (once per error), with the error's own stack as the
 * offending site and `call` as what passed it on. Returns the HeaderGuardError of throw mode, to
 * pass on in the error's place; undefined otherwise (the error goes on unchanged). Internal.
 */
export function reportErrorAfterSend(res: ServerResponse, error: unknown, call: string, skip: AnyFunction): HeaderGuardError | undefined {
  const state = stateOf(res);
  if (state === undefined || !answered(state)) return undefined;
  if (!newErrorAfterSend(state, error)) return undefined;
  const verdict = flag(state, 'error-after-send', call, skip, { error, defer: true });
  return typeof verdict === 'object' ? verdict : undefined;
}
