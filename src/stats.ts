/**
 * Violation counts of every guard in the process, per kind and per route, bounded in memory.
 */
import type { HeaderGuardStats, Violation, ViolationKind } from './types.js';

/** Most routes counted one by one; the rest share one bucket, so a path-based key cannot grow memory. */
const MAX_ROUTES = 1000;
const OTHER_ROUTES = '(other routes)';

const emptyByKind = (): Record<ViolationKind, number> => ({
  'late-status': 0,
  'late-header': 0,
  'double-send': 0,
  'write-after-end': 0,
  'next-after-send': 0,
  'error-after-send': 0,
  hang: 0,
  'duplicate-header': 0,
  'body-on-no-content': 0,
  'content-length-mismatch': 0,
});

let total = 0;
let byKind = emptyByKind();
let byRoute = new Map<string, Partial<Record<ViolationKind, number>>>();

/** Count one violation (internal: every guard in the process counts here). */
export function count(violation: Violation): void {
  total++;
  byKind[violation.kind]++;
  let key = `${violation.method} ${violation.route ?? violation.path}`;
  if (!byRoute.has(key) && byRoute.size >= MAX_ROUTES) key = OTHER_ROUTES;
  const counts = byRoute.get(key) ?? {};
  counts[violation.kind] = (counts[violation.kind] ?? 0) + 1;
  byRoute.set(key, counts);
}

/**
 * The snapshot behind `stats()` of index.ts (internal: reached through the engine, so that
 * copies of header-guard in one process share one count).
 */
export function stats(): HeaderGuardStats {
  const routes: HeaderGuardStats['byRoute'] = {};
  for (const [route, counts] of byRoute) routes[route] = { ...counts };
  return { total, byKind: { ...byKind }, byRoute: routes };
}

/**
 * Set every count back to zero (internal: `resetStats()` of index.ts, through the engine).
 */
export function resetStats(): void {
  total = 0;
  byKind = emptyByKind();
  byRoute = new Map();
}
