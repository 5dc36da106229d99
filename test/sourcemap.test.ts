// Source maps (src/report/sourcemap.ts): real maps made by esbuild (external file, inline data),
// every source form (relative, sourceRoot, file://, webpack://), and broken or hostile maps, which
// must leave the generated position as it is, quickly and without throwing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { framesToShow } from '../src/report/callsite.js';
import { clearSourceMaps, originalSite } from '../src/report/sourcemap.js';
import type { CallSite } from '../src/types.js';

/** The original: the call to `marker()` is on line 4, column 3 (1-based). */
const SOURCE = ['export function run(marker: () => void): void {', '  const unused: number = 1;', '  void unused;', '  marker();', '}', ''].join('\n');

let dir: string;
let mapJSON: { sources: string[]; sourceRoot?: string; [key: string]: unknown };
let code: string;
let at: { line: number; column: number };

/** Write a generated file with the given trailing comment (and the map file, when given); return the site of `marker()`. */
function generated(name: string, comment: string, map?: unknown): CallSite {
  const file = join(dir, name);
  writeFileSync(file, `${code}${comment}\n`);
  if (map !== undefined) writeFileSync(`${file}.map`, typeof map === 'string' ? map : JSON.stringify(map));
  return { file, line: at.line, column: at.column, function: 'run' };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hg-sourcemap-'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'app.ts'), SOURCE);
  buildSync({ entryPoints: [join(dir, 'src', 'app.ts')], outfile: join(dir, 'out', 'app.js'), sourcemap: 'external', format: 'cjs', platform: 'node', logLevel: 'silent' });
  const built = readFileSync(join(dir, 'out', 'app.js'), 'utf8');
  code = `${built.slice(0, built.lastIndexOf('//# sourceMappingURL')).trimEnd()}\n`;
  mapJSON = JSON.parse(readFileSync(join(dir, 'out', 'app.js.map'), 'utf8'));
  const lines = code.split('\n');
  const line = lines.findIndex((l) => l.includes('marker()'));
  at = { line: line + 1, column: (lines[line] ?? '').indexOf('marker()') + 1 };
  // Generated files sit in out/, as a bundle's do: the map's sources are relative to it.
  dir = join(dir, 'out');
});

after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

const original = (): string => join(dir, '..', 'src', 'app.ts');

describe('original positions', () => {
  it('a map file named by the comment: the original file, line and column', () => {
    const site = generated('external.js', '//# sourceMappingURL=external.js.map', mapJSON);
    assert.deepEqual(originalSite(site), { file: original(), line: 4, column: 3, function: 'run' });
  });

  it('an inline base64 map, and a /*# */ comment', () => {
    const data = Buffer.from(JSON.stringify(mapJSON)).toString('base64');
    assert.equal(originalSite(generated('inline.js', `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${data}`)).file, original());
    assert.equal(originalSite(generated('block.js', '/*# sourceMappingURL=block.js.map */', mapJSON)).file, original());
    // An inline map far longer than the first read of the file's tail.
    const large = Buffer.from(JSON.stringify({ ...mapJSON, sourcesContent: ['x'.repeat(200_000)] })).toString('base64');
    assert.equal(originalSite(generated('large.js', `//# sourceMappingURL=data:application/json;base64,${large}`)).file, original());
  });

  it('sources with a sourceRoot, as file:// URLs and in webpack:// form', () => {
    const rooted = { ...mapJSON, sourceRoot: '../src/', sources: ['app.ts'] };
    assert.equal(originalSite(generated('rooted.js', '//# sourceMappingURL=rooted.js.map', rooted)).file, original());
    const url = { ...mapJSON, sources: [pathToFileURL(original()).href] };
    assert.equal(originalSite(generated('url.js', '//# sourceMappingURL=url.js.map', url)).file, original());
    const webpack = { ...mapJSON, sources: ['webpack://my-app/./src/app.ts?loader'] };
    assert.equal(originalSite(generated('webpack.js', '//# sourceMappingURL=webpack.js.map', webpack)).file, join(process.cwd(), 'src', 'app.ts'));
    const helper = { ...mapJSON, sources: ['\0commonjsHelpers.js'] };
    const site = generated('helper.js', '//# sourceMappingURL=helper.js.map', helper);
    assert.deepEqual(originalSite(site), site);
  });

  it('a frame Node already mapped to a webpack:// source names the file, relative to the working directory', () => {
    assert.deepEqual(originalSite({ file: 'webpack://my-app/src/app.ts', line: 4, column: 3 }), { file: join(process.cwd(), 'src', 'app.ts'), line: 4, column: 3 });
    const runtime = { file: 'webpack://my-app/webpack/runtime/define property getters', line: 1, column: 1 };
    assert.deepEqual(originalSite(runtime), runtime);
  });

  it('a line the map has no mapping for, and a file without a comment, stay as they are', () => {
    const site = generated('unmapped.js', '//# sourceMappingURL=unmapped.js.map', mapJSON);
    const elsewhere = { ...site, line: site.line + 50 };
    assert.deepEqual(originalSite(elsewhere), elsewhere);
    // An original source (what --enable-source-maps or tsx put in a stack) is never mapped again.
    const plain = { file: original(), line: 4, column: 3 };
    assert.deepEqual(originalSite(plain), plain);
  });

  it('a rebuilt file is read again', () => {
    const site = generated('rebuilt.js', '//# sourceMappingURL=rebuilt.js.map', mapJSON);
    assert.equal(originalSite(site).file, original());
    generated('rebuilt.js', '//# sourceMappingURL=rebuilt.js.map', { ...mapJSON, sources: ['../src/other.ts'] });
    utimesSync(site.file, new Date(), new Date(Date.now() + 5000));
    assert.equal(originalSite(site).file, join(dir, '..', 'src', 'other.ts'));
    clearSourceMaps();
  });
});

describe('the cache', () => {
  it('keeps a file\'s map until the file changes, and at most 256 files', () => {
    clearSourceMaps();
    const site = generated('cached.js', '//# sourceMappingURL=cached.js.map', mapJSON);
    assert.equal(originalSite(site).file, original());
    // The map file changes, the generated file does not: the cached map is used.
    writeFileSync(`${site.file}.map`, JSON.stringify({ ...mapJSON, sources: ['../src/other.ts'] }));
    assert.equal(originalSite(site).file, original());
    for (let index = 0; index < 256; index++) {
      const other = generated(`many-${index}.js`, `//# sourceMappingURL=many-${index}.js.map`, mapJSON);
      assert.equal(originalSite(other).file, original());
    }
    // 256 newer files pushed it out: it is read again.
    assert.equal(originalSite(site).file, join(dir, '..', 'src', 'other.ts'));
    clearSourceMaps();
  });
});

describe('broken and hostile maps leave the generated position', () => {
  const cases: Array<[string, () => CallSite]> = [
    ['a missing map file', () => generated('missing.js', '//# sourceMappingURL=nowhere.js.map')],
    ['a directory', () => generated('directory.js', `//# sourceMappingURL=${pathToFileURL(dir).href}`)],
    ['/dev/zero', () => generated('zero.js', '//# sourceMappingURL=/dev/zero')],
    ['malformed JSON', () => generated('malformed.js', '//# sourceMappingURL=malformed.js.map', '{"version":3,')],
    ['JSON that is not a map', () => generated('notmap.js', '//# sourceMappingURL=notmap.js.map', { hello: 'world' })],
    ['mappings that are garbage', () => generated('garbage.js', '//# sourceMappingURL=garbage.js.map', { ...mapJSON, mappings: '!!!!;;;;@@@' })],
    ['an http URL', () => generated('http.js', '//# sourceMappingURL=http://127.0.0.1:9/app.js.map')],
    ['inline data that is not JSON', () => generated('badinline.js', '//# sourceMappingURL=data:application/json;base64,!!!notbase64')],
    ['inline data of another type', () => generated('texture.js', '//# sourceMappingURL=data:text/plain;base64,aGVsbG8=')],
    ['a huge map file', () => {
      const site = generated('huge.js', '//# sourceMappingURL=huge.js.map', mapJSON);
      truncateSync(`${site.file}.map`, 64 * 1024 * 1024);
      return site;
    }],
    ['a FIFO', () => {
      const site = generated('fifo.js', '//# sourceMappingURL=fifo.js.map');
      execFileSync('mkfifo', [`${site.file}.map`]);
      return site;
    }],
  ];
  for (const [name, make] of cases) {
    const posixOnly = (name === 'a FIFO' || name === '/dev/zero') && process.platform === 'win32';
    it(name, { skip: posixOnly && 'no FIFOs or /dev/zero on Windows' }, () => {
      const site = make();
      const started = performance.now();
      assert.deepEqual(originalSite(site), site);
      assert.ok(performance.now() - started < 2000, 'bounded time');
    });
  }

  it('a frame whose file is not a file (Node internals, eval, a directory) is left alone', () => {
    for (const site of [{ file: 'node:internal/timers', line: 1, column: 1 }, { file: dir, line: 1, column: 1 }, { file: '/nonexistent/x.js', line: 1, column: 1 }]) {
      assert.deepEqual(originalSite(site), site);
    }
  });
});

describe('user frames are decided on the original position', () => {
  it('a bundle frame whose original is a package is not the user\'s, whose original is the app is', () => {
    const app = generated('bundle.js', '//# sourceMappingURL=bundle.js.map', mapJSON);
    const packaged = generated('packaged.js', '//# sourceMappingURL=packaged.js.map', { ...mapJSON, sources: ['../node_modules/lib/index.js'] });
    const stack = `Error\n    at run (${packaged.file}:${packaged.line}:${packaged.column})\n    at run (${app.file}:${app.line}:${app.column})`;
    assert.deepEqual(framesToShow(stack), [{ file: original(), line: 4, column: 3, function: 'run' }]);
  });
});
