/**
 * Response lint (the lint option): checks at the flush and at the end for responses that went
 * out wrong without any late call: a one-value header with several values, a body on a 204 or
 * 304, a Content-Length that differs from the bytes written. Each is reported once per response,
 * never thrown.
 */
import { flag } from '../report/flag.js';
import type { AnyFunction, ResponseState } from '../state.js';
import type { ViolationKind } from '../types.js';
import { originLine, setBefore } from './origins.js';

/** Headers that take one value: several at the flush means clients pick one, or reject the response. */
const SINGLE_VALUE_HEADERS = [
  'content-type', 'content-length', 'content-encoding', 'content-location', 'content-range', 'content-disposition',
  'location', 'etag', 'last-modified', 'expires', 'age', 'retry-after',
  'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-max-age',
  'x-frame-options', 'x-content-type-options', 'strict-transport-security', 'referrer-policy',
];

/** Report a lint kind once per response. */
function lintOnce(state: ResponseState, kind: ViolationKind): boolean {
  state.linted ??= [];
  if (state.linted.includes(kind)) return false;
  state.linted.push(kind);
  return true;
}

/** Lint at the flush: a one-value header with several values, naming each change to it. */
export function lintHeaders(state: ResponseState): void {
  const res = state.res;
  for (const name of SINGLE_VALUE_HEADERS) {
    const value = res.getHeader(name);
    if (!Array.isArray(value) || value.length < 2 || !lintOnce(state, 'duplicate-header')) continue;
    const origins = state.headers?.get(name) ?? [];
    const last = origins.filter((origin) => origin.action !== 'remove').at(-1);
    flag(state, 'duplicate-header', last?.call ?? `res.setHeader('${name}')`, undefined, {
      headline: `the ${name} header went out with ${value.length} values, and it takes one: clients keep one of them, or reject the response.`,
      offendingFrames: last?.site === undefined ? [] : [last.site],
      offendingLabel: `  the last value came from ${last?.call ?? 'an unknown call'}:`,
      notes: [`  every change to ${name}, in order:`, ...origins.map((origin) => `${originLine(origin)} (${origin.action})`)],
    });
    return;
  }
}

/** How many bytes a write or end argument holds (a string in its encoding, a Buffer, a typed array). */
function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, Buffer.isEncoding(encoding as string) ? (encoding as BufferEncoding) : 'utf8');
  if (ArrayBuffer.isView(chunk)) return chunk.byteLength;
  return 0;
}

/** Lint of a write: count the bytes; data on a 204 or 304 is dropped by Node. */
export function lintBody(state: ResponseState, fn: AnyFunction, call: string, chunk: unknown, encoding: unknown): void {
  const bytes = byteLength(chunk, encoding);
  if (bytes === 0) return;
  state.bytesWritten += bytes;
  const status = state.statusCode;
  if ((status === 204 || status === 304) && state.req.method !== 'HEAD' && lintOnce(state, 'body-on-no-content')) {
    flag(state, 'body-on-no-content', call, fn, {
      headline: `${call} wrote ${bytes} bytes on a ${status} response, which has no body: Node drops them without a word.`,
      offendingLabel: `  the write: ${call}`,
    });
  }
}

/** Lint at the end: the bytes written against the Content-Length that went out. */
export function lintLength(state: ResponseState, fn: AnyFunction): void {
  const res = state.res;
  const declared = Number(res.getHeader('content-length'));
  const status = state.statusCode;
  if (!Number.isFinite(declared) || status === 204 || status === 304 || state.req.method === 'HEAD') return;
  if (declared === state.bytesWritten || !lintOnce(state, 'content-length-mismatch')) return;
  const effect = state.bytesWritten < declared ? 'the client waits for the rest until the connection closes' : 'the extra bytes corrupt the next response on a kept-alive connection';
  flag(state, 'content-length-mismatch', 'res.end()', fn, {
    headline: `the response declared Content-Length ${declared} but wrote ${state.bytesWritten} bytes: ${effect}.`,
    offendingLabel: '  ended by res.end():',
    notes: setBefore(state, 'content-length'),
  });
}
