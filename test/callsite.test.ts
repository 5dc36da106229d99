// Stack parsing: every frame shape V8 prints, odd and hostile stacks, bounded work.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { captureStack, formatSite, framesToShow, holderFrames, isUserFrame, parseFrame, parseStack } from '../src/report/callsite.js';

describe('parseFrame', () => {
  const cases: Array<[string, ReturnType<typeof parseFrame>]> = [
    ['    at handler (/app/src/routes.js:10:5)', { file: '/app/src/routes.js', line: 10, column: 5, function: 'handler' }],
    ['    at /app/src/routes.js:10:5', { file: '/app/src/routes.js', line: 10, column: 5 }],
    ['    at async Promise.all (index 0)', undefined],
    ['    at async load (/app/src/db.js:3:9)', { file: '/app/src/db.js', line: 3, column: 9, function: 'load' }],
    ['    at new Store (/app/src/store.js:1:2)', { file: '/app/src/store.js', line: 1, column: 2, function: 'new Store' }],
    ['    at Object.<anonymous> (/app/index.js:4:1)', { file: '/app/index.js', line: 4, column: 1, function: 'Object.<anonymous>' }],
    ['    at <anonymous> (/app/index.js:4:1)', { file: '/app/index.js', line: 4, column: 1 }],
    ['    at fn (C:\\app\\src\\routes.js:10:5)', { file: 'C:\\app\\src\\routes.js', line: 10, column: 5, function: 'fn' }],
    [`    at run (${pathToFileURL('/app/src/esm.mjs').href}:7:3)`, { file: '/app/src/esm.mjs', line: 7, column: 3, function: 'run' }],
    ['    at eval (eval at <anonymous> (/app/x.js:1:1), <anonymous>:1:1)', { file: 'eval at <anonymous> (/app/x.js:1:1), <anonymous>', line: 1, column: 1, function: 'eval' }],
    ['    at Array.forEach (<anonymous>)', undefined],
    ['    at node:internal/main/run_main_module:28:49', { file: 'node:internal/main/run_main_module', line: 28, column: 49 }],
    ['Error: boom', undefined],
    ['', undefined],
    ['    at weird name (with parens) (/app/a.js:1:2)', { file: '/app/a.js', line: 1, column: 2, function: 'weird name (with parens)' }],
  ];
  for (const [line, expected] of cases) {
    it(JSON.stringify(line.trim()), () => assert.deepEqual(parseFrame(line), expected));
  }
});

describe('user frames', () => {
  it('skips Node, node_modules, eval code and the guard itself', () => {
    assert.equal(isUserFrame({ file: '/app/src/a.js', line: 1, column: 1 }), true);
    assert.equal(isUserFrame({ file: 'node:internal/timers', line: 1, column: 1 }), false);
    assert.equal(isUserFrame({ file: '/app/node_modules/express/lib/response.js', line: 1, column: 1 }), false);
    assert.equal(isUserFrame({ file: 'C:\\app\\node_modules\\x\\y.js', line: 1, column: 1 }), false);
    assert.equal(isUserFrame({ file: 'eval at <anonymous> (/app/x.js:1:1), <anonymous>', line: 1, column: 1 }), false);
    assert.equal(isUserFrame({ file: join(__dirname, '..', 'src', 'guard.ts'), line: 1, column: 1 }), false);
    assert.equal(isUserFrame({ file: __filename, line: 1, column: 1 }), true);
  });

  it('falls back to the innermost library frame when no frame is the user\'s', () => {
    const stack = 'Error\n    at Layer.handle (/app/node_modules/router/layer.js:1:2)\n    at node:internal/timers:3:4';
    assert.deepEqual(framesToShow(stack, { max: 3, ignore: [] }), [{ file: '/app/node_modules/router/layer.js', line: 1, column: 2, function: 'Layer.handle' }]);
    assert.deepEqual(framesToShow(stack, { max: 3, ignore: [] }, true), []);
  });

  it('shows at most the asked number of user frames, innermost first', () => {
    const stack = ['Error', ...Array.from({ length: 10 }, (_, i) => `    at f${i} (/app/f.js:${i + 1}:1)`)].join('\n');
    assert.deepEqual(framesToShow(stack, { max: 3, ignore: [] }).map((site) => site.line), [1, 2, 3]);
  });

  it('never throws on strange stacks', () => {
    for (const stack of [undefined, null, 42, {}, '', 'no frames at all', '\n\n\n', 'at', '    at (', '    at x (:::)']) {
      assert.doesNotThrow(() => framesToShow(stack, { max: 3, ignore: [] }));
    }
    const hostile = {};
    Object.defineProperty(hostile, 'stack', { get() { throw new Error('no'); } });
    assert.deepEqual(holderFrames(hostile), []);
  });

  it('reads only a bounded part of huge stacks', () => {
    const line = `    at f (/app/${'x'.repeat(5000)}.js:1:1)`;
    const stack = ['Error', ...Array.from({ length: 100000 }, () => line)].join('\n');
    const started = process.hrtime.bigint();
    const frames = parseStack(stack);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(frames.length <= 100);
    assert.ok(ms < 1000, `parsed in ${ms} ms`);
  });

  it('captures from the caller of the skipped function, in the user\'s file', () => {
    function outer() {
      return captureStack(outer, 5);
    }
    const frames = holderFrames(outer(), { max: 1, ignore: [] });
    assert.equal(frames[0]?.file, __filename);
  });

  it('prints paths relative to the working directory', () => {
    assert.equal(formatSite({ file: join(process.cwd(), 'src', 'app.ts'), line: 3, column: 7 }), join('src', 'app.ts') + ':3:7');
    assert.equal(formatSite({ file: '/elsewhere/app.ts', line: 3, column: 7 }), '/elsewhere/app.ts:3:7');
  });

  it('prints a package file from its nearest node_modules, inside the working directory or not', () => {
    const cases: Array<[string, string]> = [
      [join(process.cwd(), 'node_modules', 'express', 'lib', 'response.js'), join('node_modules', 'express', 'lib', 'response.js')],
      ['/elsewhere/node_modules/router/index.js', 'node_modules/router/index.js'],
      ['/elsewhere/node_modules/a/node_modules/@scope/b/lib/x.js', 'node_modules/@scope/b/lib/x.js'],
      ['C:\\app\\node_modules\\router\\index.js', 'node_modules\\router\\index.js'],
      ['node:internal/timers', 'node:internal/timers'],
    ];
    for (const [file, shown] of cases) assert.equal(formatSite({ file, line: 1, column: 2 }), `${shown}:1:2`);
  });
});
