/**
 * `header-guard/outgoing`: outgoing requests (http and https ClientRequests, a proxy's
 * `proxyReq`) checked like responses. A ClientRequest shares OutgoingMessage's methods with
 * server responses, so the guard's wrappers already see its calls; once this is installed, the
 * first wrapped call on a request gives it a state (attach.ts), the call that sent its headers
 * is recorded, and a later header change is reported as `late-header`, naming both sites:
 *
 *   header-guard: proxyReq.setHeader('x-id') was called after the request's headers were sent ...
 *
 * Process-wide, by opt-in: no incoming request owns the requests made while handling it (that
 * would take async context tracking on every request), so one guard, with its own options,
 * watches every outgoing request of the process.
 */
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import { adoptOutgoingRequests } from '../attach.js';
import { Guard } from '../guard.js';
import { offByEnvironment, tellOff } from '../off-switch.js';
import { resolveOptions } from '../options.js';
import { captureStack, formatSite, isOwnFrame, isUserFrame, parseStack } from '../report/callsite.js';
import { originalSite } from '../report/sourcemap.js';
import { patchChain } from '../patch/prototypes.js';
import type { Subject } from '../state.js';
import type { HeaderGuardOptions } from '../types.js';

/** Frames kept from where an outgoing request was made: enough to reach a proxy's code. */
const MADE_AT_FRAMES = 12;

/** The request line of an outgoing request's reports: method, origin and path, never the query string. */
function requestLine(request: ClientRequest): string {
  const path = typeof request.path === 'string' ? request.path.split('?')[0] : '';
  const host = typeof request.host === 'string' ? request.host : '';
  const protocol = typeof request.protocol === 'string' ? request.protocol : 'http:';
  const port = (request as { agent?: { defaultPort?: unknown } }).agent?.defaultPort;
  const socketPort = (request as { socket?: { remotePort?: unknown } | null }).socket?.remotePort;
  const shownPort = typeof socketPort === 'number' && socketPort !== port ? `:${socketPort}` : '';
  return `${request.method} ${protocol}//${host}${shownPort}${path}`;
}

/** Where the request was made (at its original position, through source maps): the app's own frame, else the innermost one outside Node and the guard (a proxy library). Read only by a report. */
function madeAt(stack: string): string | undefined {
  const frames = parseStack(stack).map(originalSite).filter((frame) => !isOwnFrame(frame) && !frame.file.startsWith('node:'));
  const site = frames.find((frame) => isUserFrame(frame)) ?? frames[0];
  if (site === undefined) return undefined;
  return `${site.function === undefined ? '' : `${site.function} `}(${formatSite(site)})`;
}

/** What a request is called in its reports: `proxyReq` when http-proxy made it, `request` otherwise. */
function describe(request: ClientRequest): { subject: Subject; req: IncomingMessage } {
  const holder = captureStack(describe, MADE_AT_FRAMES);
  let stack = '';
  try {
    stack = String(holder.stack);
  } catch {
    // No stack: the request is named generically.
  }
  const proxy = /[\\/]node_modules[\\/]http-proxy[\\/]/.test(stack);
  const subject: Subject = {
    receiver: proxy ? 'proxyReq' : 'request',
    headers: "the request's headers",
    get requestLine() {
      const made = madeAt(stack);
      return `outgoing request: ${requestLine(request)}${made === undefined ? '' : `, made at ${made}`}`;
    },
  };
  // What the guard's request facts read (method, path, no route): the outgoing request's own.
  const req = {
    get method() {
      return request.method;
    },
    get url() {
      return typeof request.path === 'string' ? request.path : '/';
    },
    headers: {},
  } as unknown as IncomingMessage;
  return { subject, req };
}

/**
 * Check every outgoing request of this process (http and https) from now on: a header change
 * after the request's headers went out (a proxy hook that runs too late) is reported as
 * `late-header`, naming the late call and the call that sent the headers.
 *
 * ```ts
 * import { guardOutgoingRequests } from 'header-guard/outgoing';
 * guardOutgoingRequests({ contain: true }); // report, and keep the process up
 * ```
 *
 * Options are headerGuard()'s. In log mode (the default) the late call still throws Node's
 * `ERR_HTTP_HEADERS_SENT` after the report, as without the guard; from a proxy's async hook that
 * throw kills the process. With `contain: true` it is not thrown and the request goes on without
 * the header. Capture defaults to `'always'` (outgoing requests are few next to responses).
 *
 * @param options - headerGuard()'s options.
 * @returns a function that stops checking requests made after it is called.
 * @public
 */
export function guardOutgoingRequests(options: HeaderGuardOptions = {}): () => void {
  const resolved = resolveOptions({ capture: 'always', ...options });
  // Off for this call (enabled: false) or for the process (HEADER_GUARD=off): nothing to stop.
  if (!resolved.enabled) return () => undefined;
  if (offByEnvironment(process.env)) {
    tellOff();
    return () => undefined;
  }
  const guard = new Guard(resolved);
  patchChain(http.ClientRequest.prototype);
  adoptOutgoingRequests({ guard, describe });
  return () => adoptOutgoingRequests(undefined);
}

export default guardOutgoingRequests;
