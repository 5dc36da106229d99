/**
 * Call sites: capturing a stack cheaply (formatted only when a report reads it), parsing V8's
 * frames, and choosing which frames a report shows (the user's own, not Node's, a package's or
 * the guard's), and how a site is printed.
 */
import { basename, dirname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallSite } from '../types.js';
import { originalSite } from './sourcemap.js';

/** An object that holds a captured, not yet formatted V8 stack (internal). */
export interface StackHolder {
  stack?: unknown;
}

/** The most stack lines we ever read, and the longest line we parse: bounded work on odd stacks. */
const MAX_LINES = 100;
const MAX_LINE_LENGTH = 2000;

/**
 * Capture the stack above `skip` (which must be on the stack), at most `limit` frames.
 * Cheap: V8 formats the stack only when `.stack` is first read, which we do only to report.
 * Internal.
 */
export function captureStack(skip: Function, limit: number): StackHolder {
  const holder: StackHolder = {};
  let previous: unknown;
  let changed = false;
  try {
    previous = Error.stackTraceLimit;
    Error.stackTraceLimit = limit;
    changed = true;
  } catch {
    // A read-only limit (a frozen Error, --frozen-intrinsics): capture with the limit there is.
  }
  try {
    Error.captureStackTrace(holder, skip);
  } catch {
    // A hostile prepareStackTrace: report without this site.
  }
  if (changed) {
    try {
      Error.stackTraceLimit = previous as number;
    } catch {
      // Made read-only meanwhile: nothing to restore into.
    }
  }
  return holder;
}

/**
 * Parse one line of a V8 stack (`    at fn (file:1:2)`, `    at file:1:2`, `    at async fn (...)`)
 * into a CallSite; undefined for lines that are not frames. Internal.
 */
export function parseFrame(rawLine: string): CallSite | undefined {
  let line = rawLine.length > MAX_LINE_LENGTH ? rawLine.slice(0, MAX_LINE_LENGTH) : rawLine;
  line = line.trim();
  if (!line.startsWith('at ')) return undefined;
  line = line.slice(3);
  if (line.startsWith('async ')) line = line.slice(6);
  let fn: string | undefined;
  let location = line;
  if (line.endsWith(')')) {
    // The location is in the last balanced parentheses: function names, eval origins and
    // paths may hold parentheses of their own.
    let depth = 0;
    let open = -1;
    for (let index = line.length - 1; index >= 0; index--) {
      const char = line[index];
      if (char === ')') depth++;
      else if (char === '(' && --depth === 0) {
        open = index;
        break;
      }
    }
    if (open < 1 || line[open - 1] !== ' ') return undefined;
    fn = line.slice(0, open - 1);
    location = line.slice(open + 1, -1);
  }
  // eval frames: "eval at f (file:1:2), <anonymous>:3:4": the code ran in eval, not in a file.
  const match = /^(.*?):(\d+):(\d+)$/.exec(location);
  if (match === null) return undefined;
  let file = match[1] ?? '';
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file);
    } catch {
      return undefined;
    }
  }
  const site: CallSite = { file, line: Number(match[2]), column: Number(match[3]) };
  if (fn !== undefined && fn !== '' && fn !== '<anonymous>') site.function = fn;
  return site;
}

/** Every frame of a stack string, in order, bounded (internal). */
export function parseStack(stack: string): CallSite[] {
  const frames: CallSite[] = [];
  let start = 0;
  for (let count = 0; count < MAX_LINES && start < stack.length; count++) {
    let end = stack.indexOf('\n', start);
    if (end === -1) end = stack.length;
    const frame = parseFrame(stack.slice(start, end));
    if (frame !== undefined) frames.push(frame);
    start = end + 1;
  }
  return frames;
}

/** The frame this file's code runs in, as V8 reports it: in dist/ or src/, or inside a bundle. */
const ownFrame: CallSite | undefined = parseStack(String(new Error().stack ?? ''))[0];

/** The directory of the guard's own files, once known (undefined: not yet computed; null: unknown). */
let ownDirCache: string | null | undefined;

/**
 * The directory of the guard's own files (this file's parent: src/ or dist/), found from our own
 * stack so it works in CJS, ESM and under tsx; inside a bundle, from the bundle's source map (the
 * original of this file's frame). Null when this file's original is not known (a bundle without a
 * map): its files are then named by bundle positions. Computed on first use, never at load.
 */
function ownDir(): string | null {
  if (ownDirCache !== undefined) return ownDirCache;
  ownDirCache = null;
  const original = ownFrame === undefined ? undefined : originalSite(ownFrame);
  if (original !== undefined && isPathLike(original.file) && /^callsite\.[cm]?[jt]s$/.test(basename(original.file))) {
    ownDirCache = dirname(dirname(original.file)) + sep;
  }
  return ownDirCache;
}

/**
 * Frames of the guard's compiled wrappers that sit in another file (patch/wrapper.ts): `file:line:column`
 * of each, and scripts named by the guard that are its own throughout.
 */
const ownPositions = new Set<string>();
const ownScripts = new Set<string>();

/** Say that the frame at `file:line:column` is one of the guard's wrappers, or (no line) that all of `file` is (internal). */
export function markOwnScript(file: string, line?: number, column?: number): void {
  if (line === undefined) ownScripts.add(file);
  else ownPositions.add(`${file}:${line}:${column ?? 0}`);
}

/** Whether a frame is one of the guard's compiled wrappers. */
function isOwnScript(site: CallSite): boolean {
  if (ownScripts.size !== 0 && ownScripts.has(site.file)) return true;
  return ownPositions.size !== 0 && ownPositions.has(`${site.file}:${site.line}:${site.column}`);
}

/** Whether a frame's file is a real path (absolute, including Windows drive and UNC paths). */
function isPathLike(file: string): boolean {
  return isAbsolute(file) || /^[A-Za-z]:[\\/]/.test(file) || file.startsWith('\\\\');
}

/** Which frames a report shows (internal): how many user frames per site, and which paths count as library code. */
export interface FrameOptions {
  max: number;
  ignore: readonly (string | RegExp)[];
}

/** The defaults: three user frames (the call and two callers), nothing ignored beyond the built-ins. */
export const DEFAULT_FRAME_OPTIONS: FrameOptions = { max: 3, ignore: [] };

/** Whether a path matches one of the user's `ignore` patterns (a substring, or a RegExp). */
function ignored(file: string, ignore: readonly (string | RegExp)[]): boolean {
  for (const pattern of ignore) {
    if (typeof pattern === 'string') {
      if (file.includes(pattern)) return true;
    } else {
      pattern.lastIndex = 0;
      if (pattern.test(file)) return true;
    }
  }
  return false;
}

/**
 * Whether a frame is in the user's own files: not Node's, not a package's, not the guard's,
 * and not matched by an `ignore` pattern (internal).
 */
export function isUserFrame(site: CallSite, ignore: readonly (string | RegExp)[] = []): boolean {
  const file = site.file;
  if (!isPathLike(file)) return false;
  if (/[\\/]node_modules[\\/]/.test(file)) return false;
  if (isOwnFrame(site)) return false;
  return ignore.length === 0 || !ignored(file, ignore);
}

/**
 * The guard's functions that run between the user's frames (the middleware, Express's guarded
 * `next` and Layer entries) are named `headerGuard…`: a marker that survives bundling, so they are
 * known as the guard's even inside a bundle without a source map. V8 prints them as `headerGuardX`,
 * `Type.headerGuardX` or `Type.headerGuardX [as name]`.
 */
const OWN_FUNCTION = /(?:^|\.)headerGuard[A-Z]\w*(?: \[as [^\]]+\])?$/;

/** Whether a frame belongs to the guard itself (internal; adapters/outgoing.ts reads it too). */
export function isOwnFrame(site: CallSite): boolean {
  if (site.function !== undefined && OWN_FUNCTION.test(site.function)) return true;
  const dir = ownDir();
  return (dir !== null && site.file.startsWith(dir)) || isOwnScript(site);
}

/**
 * The frames worth showing from a stack: up to `max` of the user's own frames, innermost first,
 * each at its original position when its file has a source map (sourcemap.ts): whether a frame is
 * the user's is decided on that original position. When there are none (the call came from a
 * library or from Node), the innermost frame that is not the guard's, so a report still says where
 * the call came from (unless `userOnly`). Never throws. Internal.
 */
export function framesToShow(stack: unknown, options: FrameOptions = DEFAULT_FRAME_OPTIONS, userOnly = false): CallSite[] {
  if (typeof stack !== 'string') return [];
  const user: CallSite[] = [];
  let other: CallSite | undefined;
  for (const generated of parseStack(stack)) {
    // A compiled wrapper is the guard's under any name: never mapped (its lines are not the file's).
    if (isOwnScript(generated)) continue;
    const frame = originalSite(generated);
    if (isUserFrame(frame, options.ignore)) {
      user.push(frame);
      if (user.length >= options.max) break;
    } else if (other === undefined && !isOwnFrame(frame)) {
      other = frame;
    }
  }
  if (user.length > 0 || userOnly) return user;
  return other === undefined ? [] : [other];
}

/** The frames of a captured holder, reading (and so formatting) its stack once. Internal. */
export function holderFrames(holder: StackHolder | undefined, options: FrameOptions = DEFAULT_FRAME_OPTIONS): CallSite[] {
  if (holder === undefined) return [];
  let stack: unknown;
  try {
    stack = holder.stack;
  } catch {
    return [];
  }
  return framesToShow(stack, options);
}

/**
 * A call site as reports print it: `file:line:column`. The file is relative to the working
 * directory when it is inside it (`src/app.ts`); a package's file outside it is named from its
 * nearest `node_modules` (`node_modules/router/index.js`, as it would read inside the working
 * directory); any other file outside it keeps its absolute path; Node's own (`node:internal/…`)
 * as V8 names them. Exported as `formatCallSite`.
 *
 * @public
 */
export function formatSite(site: CallSite): string {
  return `${displayPath(site.file)}:${site.line}:${site.column}`;
}

/** The file of a site as reports print it (see formatSite). */
function displayPath(file: string): string {
  if (!isPathLike(file)) return file;
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch {
    // The working directory was removed: no relative form.
    cwd = '';
  }
  if (cwd !== '' && isAbsolute(file)) {
    const rel = relative(cwd, file);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return rel;
  }
  const packaged = Math.max(file.lastIndexOf('/node_modules/'), file.lastIndexOf('\\node_modules\\'));
  return packaged === -1 ? file : file.slice(packaged + 1);
}
