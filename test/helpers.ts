import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import type { Violation } from '../src/index.js';

/** The Express module type; Express 4 is loaded through the `express4` npm alias and typed alike. */
export type ExpressModule = typeof express5;

/** Both Express majors the guard supports, tested side by side. */
export const EXPRESS_VERSIONS: Array<[name: string, express: ExpressModule]> = [
  ['express 4', require('express4') as ExpressModule],
  ['express 5', express5],
];

/** What a real client over loopback received. */
export interface ClientResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Set when the connection failed or was cut before the response completed. */
  error?: string;
}

/** Listen on an ephemeral loopback port; resolve with the base URL and a close function. */
export async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** One request with node:http (no connection reuse), collecting status, headers and body. */
export function request(url: string, options: http.RequestOptions & { body?: string } = {}): Promise<ClientResult> {
  return new Promise((resolve) => {
    const req = http.request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('latin1'), error: error.message }));
    });
    req.on('error', (error) => resolve({ status: 0, headers: {}, body: '', error: error.message }));
    // A client that gives up, so that a hung response fails its test instead of hanging it.
    if (options.timeout !== undefined) req.on('timeout', () => req.destroy(new Error(`no answer within ${String(options.timeout)} ms`)));
    req.end(options.body);
  });
}

/** Start an app, run one request against it, close it. */
export async function requestApp(app: http.RequestListener, path: string, options?: http.RequestOptions & { body?: string }): Promise<ClientResult> {
  const server = await listen(app);
  try {
    return await request(server.url + path, options);
  } finally {
    await server.close();
  }
}

/** Wait until `condition` holds, or fail after `ms`. */
export async function waitFor(condition: () => boolean, ms = 1000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Let pending timers and I/O run, so that a violation that would come late has its chance. */
export function settle(ms = 30): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The 1-based line of the line in `file` that carries the comment marker `// @name`. */
export function markerLine(file: string, name: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const matches = lines.flatMap((line, index) => (line.includes(`// @${name}`) && new RegExp(`// @${name}(\\s|$)`).test(line) ? [index + 1] : []));
  if (matches.length !== 1) throw new Error(`marker @${name} found ${matches.length} times in ${file}`);
  return matches[0] as number;
}

/** `file:line` of a marker, relative to the working directory as reports print it. */
export function markerSite(file: string, name: string): string {
  const relative = file.startsWith(process.cwd() + '/') ? file.slice(process.cwd().length + 1) : file;
  return `${relative}:${markerLine(file, name)}:`;
}

/** Collects what the guard reports, through onViolation. */
export function collector(): { violations: Violation[]; onViolation: (violation: Violation) => void } {
  const violations: Violation[] = [];
  return { violations, onViolation: (violation) => violations.push(violation) };
}

/**
 * A fixture's `attempt(() => lateCall())`: runs the call and keeps what it throws (throw mode's
 * HeaderGuardError) in `thrown`, as an app would catch it, so the test can look at it.
 */
export function catchInto(thrown: unknown[]): (call: () => unknown) => void {
  return (call) => {
    try {
      call();
    } catch (error) {
      thrown.push(error);
    }
  };
}

/** The offending site of any violation (hang has none: it names its last progress instead). */
export function offendingOf(violation: Violation | undefined): import('../src/index.js').CallSite | undefined {
  return violation !== undefined && 'offending' in violation ? violation.offending : undefined;
}
