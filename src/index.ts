/**
 * header-guard: names both call sites of "Cannot set headers after they are sent to the client"
 * and of the silent late calls around it.
 *
 * @packageDocumentation
 */
import { headerGuard } from './guard.js';

export { headerGuard };
export { headerOrigins } from './guard.js';
export { HeaderGuardError, ErrorCodes } from './errors.js';
export { stats, resetStats } from './stats.js';
export { formatSite as formatCallSite } from './callsite.js';
export type {
  CallSite,
  HeaderGuardLogger,
  HeaderGuardMiddleware,
  HeaderGuardOptions,
  HeaderGuardStats,
  HeaderOrigin,
  Violation,
  ViolationKind,
} from './types.js';
export default headerGuard;
