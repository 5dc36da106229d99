/**
 * Where a function is defined (file:line, through source maps when the process has them), for
 * the Nest adapter's "handled by OrdersController.findOne (src/orders.controller.ts:21)". Asked
 * only while a report is being built, and cached per function: it opens an in-process inspector
 * session for a moment (about 10 ms, 70-100 ms the first time), which no request pays otherwise.
 * Returns undefined wherever that is not possible (no inspector in this build, a worker).
 */
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { formatSite } from '../report/callsite.js';

const cache = new WeakMap<object, string | undefined>();

/** The global slot the inspector reads the function from, for the moment of one lookup. */
const SLOT = 'header-guard.locate';

interface Location {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}

/** V8's location of a function and its script's URL, through an in-process inspector session (synchronous). */
function inspect(fn: Function): { location: Location; url: string } | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Session } = require('node:inspector') as typeof import('node:inspector');
  const session = new Session();
  session.connect();
  const global = globalThis as Record<symbol, unknown>;
  const key = Symbol.for(SLOT);
  global[key] = fn;
  try {
    let objectId: string | undefined;
    session.post('Runtime.evaluate', { expression: `globalThis[Symbol.for('${SLOT}')]` }, (_error, result) => {
      objectId = result?.result?.objectId;
    });
    if (objectId === undefined) return undefined;
    let location: Location | undefined;
    session.post('Runtime.getProperties', { objectId, ownProperties: true }, (_error, result) => {
      const property = result?.internalProperties?.find((entry) => entry.name === '[[FunctionLocation]]');
      location = property?.value?.value as Location | undefined;
    });
    if (location === undefined) return undefined;
    const wanted = location.scriptId;
    let url: string | undefined;
    session.on('Debugger.scriptParsed', (message) => {
      if (message.params.scriptId === wanted) url = message.params.url;
    });
    session.post('Debugger.enable', () => undefined);
    session.post('Debugger.disable', () => undefined);
    return url === undefined ? undefined : { location, url };
  } finally {
    delete global[key];
    session.disconnect();
  }
}

/** A script URL as a path when it is a file URL. */
function toPath(url: string): string {
  try {
    return url.startsWith('file:') ? fileURLToPath(url) : url;
  } catch {
    return url;
  }
}

/** `src/orders.controller.ts:21` for a function, or undefined. Never throws. Internal. */
export function locateFunction(fn: Function): string | undefined {
  if (cache.has(fn)) return cache.get(fn);
  let text: string | undefined;
  try {
    const found = inspect(fn);
    if (found !== undefined) {
      const { location, url } = found;
      const map = findSourceMap(toPath(url)) ?? findSourceMap(url);
      const entry = map?.findEntry(location.lineNumber, location.columnNumber) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
      const site = entry !== undefined && typeof entry.originalSource === 'string' && typeof entry.originalLine === 'number'
        ? { file: toPath(entry.originalSource), line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 }
        : { file: toPath(url), line: location.lineNumber + 1, column: location.columnNumber + 1 };
      text = formatSite(site).replace(/:\d+$/, '');
    }
  } catch {
    text = undefined;
  }
  cache.set(fn, text);
  return text;
}
