/**
 * Every private symbol of the guard, in one place.
 *
 * They are registered (`Symbol.for`) under the name of the internal protocol, so that two copies
 * of header-guard of the same protocol in one process (the preload from one install, the app's
 * own copy from another) find each other's state and patches instead of wrapping everything
 * twice (see engine.ts). Bump PROTOCOL whenever the shape of ResponseState, Guard or a patch
 * changes.
 */

/** The version of the guard's internal protocol: the shape of its state and patches. */
export const PROTOCOL = 1;

/** The guard's state on a response (a ResponseState, or undefined for a reserved slot). */
export const kState: unique symbol = Symbol.for(`header-guard.state@${PROTOCOL}`);
/**
 * A status assigned to a response whose state slot is reserved, before its guard came
 * (patch/status-code.ts: Koa assigns `res.statusCode = 404` before any middleware runs).
 */
export const kEarlyStatus: unique symbol = Symbol.for(`header-guard.early-status@${PROTOCOL}`);
/** On Koa's response object: the call that set the answer, kept until respond() sends it (adapters/koa-response.ts). */
export const kAnswer: unique symbol = Symbol.for(`header-guard.koa-answer@${PROTOCOL}`);
/** On Koa's response object: a raw write mixed with Koa's answer was reported already. */
export const kMixed: unique symbol = Symbol.for(`header-guard.koa-mixed@${PROTOCOL}`);
/** Marks prototypes, apps and router Layer prototypes already patched. */
export const kPatched: unique symbol = Symbol.for(`header-guard.patched@${PROTOCOL}`);
/** On a response: the functions assigned to it over guarded methods, by name (patch/instance.ts). */
export const kAssigned: unique symbol = Symbol.for(`header-guard.assigned@${PROTOCOL}`);
/** Where the process-wide engine is published (engine.ts). */
export const kEngine: unique symbol = Symbol.for('header-guard.engine');
/** Brands a HeaderGuardError of any copy, for `instanceof` across copies. */
export const kErrorBrand: unique symbol = Symbol.for('header-guard.error');

// The Fastify adapter's own marks. Not registered: the engine serves one copy's adapter to the
// whole process (engine.ts), so no other copy reads them.
/** On a Fastify reply: the adapter's record of it (adapters/fastify-reply.ts). */
export const kReplyGuard: unique symbol = Symbol('header-guard.fastify.reply');
/** On a route handler the adapter wrapped, so that it is wrapped once. */
export const kWrapped: unique symbol = Symbol('header-guard.fastify.handler');
