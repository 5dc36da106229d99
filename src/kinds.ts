/**
 * The violation kinds, as data: the runtime list users can iterate and validate against, and
 * which kinds are only ever reported (never thrown). The types in types.ts derive from it.
 */

/**
 * Every violation kind, in the order the README and docs/reports.md list them. `ViolationKind` is derived from it.
 *
 * @public
 */
export const VIOLATION_KINDS = [
  'late-status',
  'late-header',
  'double-send',
  'write-after-end',
  'next-after-send',
  'error-after-send',
  'hang',
  'duplicate-header',
  'body-on-no-content',
  'content-length-mismatch',
] as const;

/**
 * What went wrong with a response. Stable strings: match on these, not on messages.
 *
 * - `late-status`: the status code changed after the headers were sent (Node accepts it silently).
 * - `late-header`: a header was set, appended or removed (or `writeHead` called) after the headers were sent.
 * - `double-send`: a body method (`send`, `json`, `sendFile`, ...) was called after another one
 *   had answered, or while one is still sending.
 * - `write-after-end`: `write()`, or `end()` with data, after the response ended.
 * - `next-after-send`: `next()` was called after the response was sent.
 * - `error-after-send`: an error reached the router after the response was sent.
 * - `hang`: the response made no progress for `hangTimeoutMs` and has not finished.
 * - `duplicate-header` (lint): a header that takes one value (Content-Type, Location, ...) had several at the flush.
 * - `body-on-no-content` (lint): data written on a 204 or 304 response, which Node drops.
 * - `content-length-mismatch` (lint): the bytes written differ from the Content-Length sent.
 *
 * The last four are reported, never thrown: there is no late call to throw from, and the
 * response went out as the app made it.
 *
 * @public
 */
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

/** Kinds that are reported but never thrown: no late call to throw from, nothing the client lacks (internal). */
export const REPORT_ONLY_KINDS: readonly ViolationKind[] = ['hang', 'duplicate-header', 'body-on-no-content', 'content-length-mismatch'];
