/**
 * header-guard/register: guard every HTTP server response in this process, with no change to
 * app code.
 *
 * ```sh
 * node --require header-guard/register app.js
 * node --import header-guard/register app.mjs
 * ```
 *
 * Environment (read once, at load; a bad value stops start-up with a TypeError naming it):
 * - `HEADER_GUARD_MODE`: `log` or `throw` (case-insensitive). Unset or empty: `throw` when
 *   `NODE_ENV` is `test` (a test run: a late call fails it), `log` otherwise (an app the preload
 *   is tried on keeps serving: reports only).
 * - `HEADER_GUARD`: `off` (or `0`, `false`) guards nothing: every response passes through
 *   untouched, said once on stderr.
 * - `HEADER_GUARD_LOG_ONLY`: comma-separated violation kinds that are only logged, never thrown
 *   (for suites that call `next()` or throw after answering on purpose).
 * - `HEADER_GUARD_CONTAIN`: `1` to contain late calls that would crash the process (the `contain` option).
 *
 * Responses of listening node:http servers are guarded from their request's start (Node's
 * `http.server.request.start` channel), with the router of each Express app on the server; any
 * other server response (Fastify's inject(), a ServerResponse a test builds) from its first
 * guarded call. Loading it twice, or from two copies of header-guard, does nothing more.
 *
 * @packageDocumentation
 */
import { engine } from './engine.js';
import { optionsFromEnvironment } from './options.js';

engine.installPreload(optionsFromEnvironment(process.env));
