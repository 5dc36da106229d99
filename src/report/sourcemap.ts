/**
 * Source maps: the original file, line and column of a frame in generated code (a bundle, a
 * compiled file), so reports name the user's own lines whatever the process does: with or without
 * `--enable-source-maps`, and when a framework (Next.js) replaces `Error.prepareStackTrace`.
 *
 * Used only while a report is built, never on a response's path. A frame is mapped only when its
 * file on disk ends with a `sourceMappingURL` comment (inline `data:` JSON, or a path or `file:`
 * URL relative to the file): a position Node has already mapped names the original source, which
 * has no such comment, so nothing is mapped twice; and a file a loader (tsx) compiles in memory is
 * left alone, since its stack positions are already the original ones. The payload comes from
 * `module.findSourceMap()` when Node has loaded it, otherwise from the comment, parsed by Node's
 * own `module.SourceMap`. Each file's answer (a map, or none) is cached, bounded in entries and in
 * bytes, and re-read when the file changes. A missing, malformed, huge or hostile map (a comment
 * naming a directory, a device, a FIFO, a huge file, a URL) leaves the frame as it is: these
 * functions never throw.
 *
 * The API for other parts of the guard: `originalSite(site)` for one frame, `originalSites(sites)`
 * for a stack, `clearSourceMaps()` to forget every cached map.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CallSite } from '../types.js';

/** The largest map payload read (a file, or an inline comment's decoded JSON): larger ones are ignored. */
const MAX_MAP_BYTES = 32 * 1024 * 1024;
/** How many files the cache keeps an answer for (a map, or "none"). */
const MAX_ENTRIES = 256;
/** How many bytes of map payload the cache keeps in all; the least recently used go first. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
/** The first read of a file's tail; doubled while the last line does not fit, up to an inline map's largest size. */
const TAIL_BYTES = 4096;
const MAX_TAIL_BYTES = Math.ceil((MAX_MAP_BYTES * 4) / 3) + 4096;

/** The part of Node's SourceMap class this file uses (Node 20.4+; typed here for older @types). */
interface SourceMapLike {
  findEntry(line: number, column: number): { generatedLine?: number; originalSource?: string; originalLine?: number; originalColumn?: number };
}

/** What the cache knows of one generated file. */
interface Entry {
  /** The file's modification time and size when read: a change means the file was rebuilt. */
  mtimeMs: number;
  size: number;
  /** Its map, or undefined when it has none (or none that could be used). */
  map: SourceMapLike | undefined;
  /** What relative sources resolve against: the map's URL (the file's own URL for an inline map). */
  base: string;
  /** The map's sourceRoot, for maps this file parsed (Node resolves the ones it loads itself). */
  sourceRoot: string;
  /** The payload's size, counted against MAX_CACHE_BYTES. */
  bytes: number;
}

/** Node's SourceMap class and findSourceMap, when this runtime has them (Deno and old Nodes may not). */
const SourceMapClass = (nodeModule as { SourceMap?: new (payload: unknown) => SourceMapLike }).SourceMap;
const findSourceMap = (nodeModule as { findSourceMap?: (path: string) => (SourceMapLike & { payload?: unknown }) | undefined }).findSourceMap;

/** The cache, least recently used first (a Map keeps insertion order). */
const cache = new Map<string, Entry>();
let cachedBytes = 0;

/** Forget every cached map (tests, or a process that rebuilt its bundles in place). */
export function clearSourceMaps(): void {
  cache.clear();
  cachedBytes = 0;
}

/**
 * The original position of one frame, or the frame itself when its file has no usable map or the
 * map has no mapping on that line. The function name stays the one V8 reported. Never throws.
 */
export function originalSite(site: CallSite): CallSite {
  try {
    // Node, with --enable-source-maps, names webpack's sources as they are in the map.
    if (site.file.startsWith('webpack://')) return withFile(site, webpackPath(site.file));
    if (SourceMapClass === undefined || !isAbsolute(site.file) || /[\\/]node_modules[\\/]/.test(site.file)) return site;
    const entry = entryFor(site.file);
    if (entry?.map === undefined) return site;
    const found = entry.map.findEntry(site.line - 1, site.column - 1);
    if (found.generatedLine !== site.line - 1 || typeof found.originalSource !== 'string' || typeof found.originalLine !== 'number' || typeof found.originalColumn !== 'number') return site;
    const file = sourcePath(found.originalSource, entry);
    if (file === undefined) return site;
    const mapped: CallSite = { file, line: found.originalLine + 1, column: found.originalColumn + 1 };
    if (site.function !== undefined) mapped.function = site.function;
    return mapped;
  } catch {
    return site;
  }
}

/** A site with another file, or the site itself when there is none. */
function withFile(site: CallSite, file: string | undefined): CallSite {
  return file === undefined ? site : { ...site, file };
}

/** Every frame of a stack at its original position (see originalSite). */
export function originalSites(sites: readonly CallSite[]): CallSite[] {
  return sites.map(originalSite);
}

/** The cached entry of a file, read afresh when the file changed; undefined when the file cannot be read. */
function entryFor(file: string): Entry | undefined {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return undefined;
  }
  if (!stats.isFile()) return undefined;
  const cached = cache.get(file);
  if (cached !== undefined) {
    cache.delete(file);
    if (cached.mtimeMs === stats.mtimeMs && cached.size === stats.size) {
      cache.set(file, cached);
      return cached;
    }
    cachedBytes -= cached.bytes;
  }
  const entry = readEntry(file, stats.mtimeMs, stats.size);
  remember(file, entry);
  return entry;
}

/** Keep an entry, dropping the least recently used ones beyond the bounds. */
function remember(file: string, entry: Entry): void {
  if (entry.bytes > MAX_CACHE_BYTES) return;
  cache.set(file, entry);
  cachedBytes += entry.bytes;
  for (const [key, old] of cache) {
    if (cache.size <= MAX_ENTRIES && cachedBytes <= MAX_CACHE_BYTES) break;
    cache.delete(key);
    cachedBytes -= old.bytes;
  }
}

/** Read a generated file's map: from Node when it loaded it, otherwise from the file's comment. */
function readEntry(file: string, mtimeMs: number, size: number): Entry {
  const none: Entry = { mtimeMs, size, map: undefined, base: '', sourceRoot: '', bytes: 0 };
  const url = mapURL(file, size);
  if (url === undefined) return none;
  const fromNode = nodeMap(file);
  // Node keeps this map itself (its sources already absolute): the cache holds only a reference.
  if (fromNode !== undefined) return { ...none, map: fromNode, base: pathToFileURL(file).href };
  const payload = url.startsWith('data:') ? inlinePayload(url, file) : filePayload(url, file);
  if (payload === undefined) return none;
  try {
    const json = JSON.parse(payload.text) as { sourceRoot?: unknown };
    const map = new SourceMapClass!(json);
    const sourceRoot = typeof json.sourceRoot === 'string' ? json.sourceRoot : '';
    return { mtimeMs, size, map, base: payload.base, sourceRoot, bytes: payload.text.length };
  } catch {
    return none;
  }
}

/** The map Node loaded for a file (with --enable-source-maps), if any. */
function nodeMap(file: string): SourceMapLike | undefined {
  try {
    const map = findSourceMap?.(file);
    return map !== undefined && typeof map.findEntry === 'function' ? map : undefined;
  } catch {
    return undefined;
  }
}

/** The `sourceMappingURL` of a file's last line (`//# …` or `/*# … *\/`), reading only its tail. */
function mapURL(file: string, size: number): string | undefined {
  let fd: number | undefined;
  try {
    // Non-blocking: a FIFO in place of a file must not hang the report.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    for (let want = TAIL_BYTES; ; want *= 2) {
      const length = Math.min(size, want, MAX_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      const read = readSync(fd, buffer, 0, length, size - length);
      const tail = buffer.toString('utf8', 0, read).trimEnd();
      const lineStart = tail.lastIndexOf('\n') + 1;
      if (lineStart > 0 || length === size) return commentURL(tail.slice(lineStart));
      // A last line longer than the window is read further only if it can be an inline map's
      // data (base64 or URL-encoded JSON): not a minified bundle's single line of code.
      if (length >= MAX_TAIL_BYTES || !/^[\w+/=%.\-*\s]*$/.test(tail.slice(1, -3))) return undefined;
    }
  } catch {
    return undefined;
  } finally {
    closeQuietly(fd);
  }
}

/** Close a descriptor this file opened, if it did; a failure to close changes nothing. */
function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {
    // Nothing to do: the descriptor is gone.
  }
}

/** The URL in a `sourceMappingURL` comment line, if the line is one. */
function commentURL(line: string): string | undefined {
  const match = /^\s*(?:\/\/|\/\*)[#@]\s*sourceMappingURL=(\S+?)\s*(?:\*\/)?\s*$/.exec(line);
  return match?.[1];
}

/** The JSON of an inline `data:` map (base64 or URL-encoded), when it is not too large. */
function inlinePayload(url: string, file: string): { text: string; base: string } | undefined {
  const comma = url.indexOf(',');
  if (comma === -1 || !/^data:application\/json/i.test(url)) return undefined;
  const header = url.slice(0, comma);
  const data = url.slice(comma + 1);
  const text = /;base64$/i.test(header) ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
  return text.length > MAX_MAP_BYTES ? undefined : { text, base: pathToFileURL(file).href };
}

/** The JSON of a map file named relative to the generated file, when it is a regular file and not too large. */
function filePayload(url: string, file: string): { text: string; base: string } | undefined {
  let target: URL;
  try {
    target = new URL(url, pathToFileURL(file));
  } catch {
    return undefined;
  }
  if (target.protocol !== 'file:') return undefined;
  const path = fileURLToPath(target);
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_MAP_BYTES) return undefined;
    const buffer = Buffer.alloc(stats.size);
    let offset = 0;
    while (offset < stats.size) {
      const read = readSync(fd, buffer, offset, stats.size - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return { text: buffer.toString('utf8', 0, offset), base: target.href };
  } catch {
    return undefined;
  } finally {
    closeQuietly(fd);
  }
}

/**
 * The file a map's source names: resolved against the map's sourceRoot and location (an inline
 * map's location is its file), or webpack's form (webpackPath); undefined for sources that are not
 * files (bundler helpers).
 */
function sourcePath(source: string, entry: Entry): string | undefined {
  if (source.includes('\0')) return undefined;
  if (source.startsWith('webpack://')) return webpackPath(source);
  const hasScheme = /^[A-Za-z][A-Za-z\d+.-]*:/.test(source) && !/^[A-Za-z]:[\\/]/.test(source);
  if (!hasScheme && isAbsolute(source)) return source;
  let url: URL;
  try {
    url = new URL(hasScheme ? source : entry.sourceRoot + source, entry.base);
  } catch {
    return undefined;
  }
  return url.protocol === 'file:' ? fileURLToPath(url) : undefined;
}

/**
 * The file of a `webpack://namespace/path?loaders` source: the path is relative to webpack's
 * context, by default the working directory (Node normalizes `./src` to `src` when it maps a
 * stack itself); undefined for webpack's own modules (`webpack/runtime/…`, externals).
 */
function webpackPath(source: string): string | undefined {
  const match = /^webpack:\/\/[^/]*\/([^?#]*)/.exec(source);
  const path = match?.[1];
  if (path === undefined || path === '' || path.startsWith('webpack/') || path.includes(' ')) return undefined;
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}
