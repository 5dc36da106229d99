/**
 * header-guard/next: guard every response of a Next.js server's Node.js runtime, from Next's
 * own start-up hook, `instrumentation.ts` at the project's root (or in `src/`):
 *
 * ```ts
 * export async function register() {
 *   if (process.env.NEXT_RUNTIME === 'nodejs') {
 *     const { guardNext } = await import('header-guard/next');
 *     guardNext();
 *   }
 * }
 * ```
 *
 * Next.js calls `register()` once per server process (`next start`, and the server process of
 * `next dev`) before it serves a request. From then on every response of the process is guarded
 * as under `header-guard/register`: API routes (`res.status().json()`, `send`, `redirect`,
 * `setHeader`), `getServerSideProps` touching `res`, and custom servers. The dynamic import
 * behind the runtime check keeps the guard out of Edge bundles, which have no node:http.
 * Loading this module changes nothing; `guardNext()` does. It imports nothing from Next.js.
 *
 * @packageDocumentation
 */
import { engine } from './engine.js';
import type { HeaderGuardOptions } from './types.js';

/**
 * Guard every server response of this process, with `headerGuard()`'s options (log mode unless
 * asked otherwise). Idempotent: the first guard of the process wins, so under
 * `NODE_OPTIONS="--require header-guard/register"` the preload's options (its environment
 * variables) stay in force and this call changes nothing.
 *
 * @param options - see {@link HeaderGuardOptions}; checked now, a bad one throws a TypeError with
 *   code `ERR_HEADER_GUARD_INVALID_OPTION`.
 * @public
 */
export function guardNext(options?: HeaderGuardOptions): void {
  engine.installPreload(options ?? {});
}

export type { HeaderGuardOptions, Violation, ViolationKind } from './types.js';
export default guardNext;
