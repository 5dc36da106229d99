// The stacks the app sees (docs/log-contract.md, "Stacks"): the same program run without the
// guard, with headerGuard() and with the preload (log mode), each in a child process, and their
// stacks compared. And a next() that let routing go on past the answer, named as the cause.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { markerLine } from './helpers.js';
import { hideOwnFrames, withoutOwnFrames } from '../src/patch/stack.js';

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const STACKS_APP = join(__dirname, 'fixtures', 'stacks-app.js');
const NEXT_APP = join(__dirname, 'fixtures', 'next-past-answer-app.js');

type Guard = 'none' | 'middleware' | 'preload';

/** Run the stacks fixture: the stacks it printed, its stderr and exit status. */
function run(server: string, scenario: string, guard: Guard): { stacks: string[]; stderr: string; status: number | null } {
  const preload = guard === 'preload' ? ['--require', join(DIST, 'register.js')] : [];
  const child = spawnSync(process.execPath, [...preload, STACKS_APP, server, scenario, guard], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, NODE_ENV: 'development', HEADER_GUARD_MODE: 'log', NODE_OPTIONS: '' },
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  return { stacks: line.startsWith('[') ? (JSON.parse(line) as string[]) : [], stderr: child.stderr, status: child.status };
}

/** One `    at …` line, parsed: its function part and position. */
interface Frame {
  text: string;
  file: string;
  line: number;
  column: number;
}

/** The frames of a stack string, in order. */
function framesOf(stack: string): Frame[] {
  return stack.split('\n').flatMap((text) => {
    const match = /^ {4}at (?:.*\()?(.+?):(\d+):(\d+)\)?$/.exec(text);
    return match === null ? [] : [{ text, file: match[1]!, line: Number(match[2]), column: Number(match[3]) }];
  });
}

/** The source text at a frame's position (empty if the position is not in the file). */
function textAt(frame: Frame): string {
  if (!existsSync(frame.file)) return '';
  const line = readFileSync(frame.file, 'utf8').split(/\r\n|\r|\n/)[frame.line - 1];
  return line === undefined ? '' : line.slice(frame.column - 1);
}

/** Whether a frame is the guard's: in its build, or a wrapper at a library function's definition. */
function isGuardFrame(frame: Frame): boolean {
  return frame.file.startsWith(DIST) || textAt(frame).startsWith('function ');
}

/**
 * Check a stack seen through the guard against the same stack without it: every guard frame is
 * at a real position (a call or a function's definition in a file that exists), and the other
 * frames are the ones without the guard, none missing.
 */
function assertSameBesidesGuardFrames(guarded: string, bare: string): void {
  const frames = framesOf(guarded);
  for (const frame of frames.filter(isGuardFrame)) {
    assert.match(textAt(frame), /^(function\b|[A-Za-z_$][\w$]*\()/, `a guard frame at a position that holds no such code: ${frame.text}`);
  }
  const real = frames.filter((frame) => !isGuardFrame(frame)).map((frame) => frame.text);
  const expected = framesOf(bare).map((frame) => frame.text);
  assert.ok(expected.length > 0, bare);
  assert.deepEqual(real.slice(0, expected.length), expected, guarded);
}

for (const server of ['express4', 'express']) {
  describe(`stacks through the guard, ${server === 'express' ? 'Express 5' : 'Express 4'}`, () => {
    for (const scenario of ['double-send', 'handler-throws']) {
      it(`${scenario}: the error handler sees exactly the stack it sees without the guard`, () => {
        const bare = run(server, scenario, 'none');
        assert.equal(bare.stacks.length, 1, bare.stderr);
        // The default limit is full: the stack without the guard has 10 frames, the user's among them.
        assert.equal(framesOf(bare.stacks[0]!).length, 10, bare.stacks[0]);
        assert.match(bare.stacks[0]!, /stacks-app\.js/);
        for (const guard of ['middleware', 'preload'] as const) {
          const guarded = run(server, scenario, guard);
          assert.deepEqual(guarded.stacks, bare.stacks, `${guard}\n${guarded.stderr}`);
        }
      });
    }

    it('an error the app catches itself: the same frames, and guard frames only at real positions', () => {
      const bare = run(server, 'caught', 'none');
      assert.equal(bare.stacks.length, 1, bare.stderr);
      for (const guard of ['middleware', 'preload'] as const) {
        const guarded = run(server, 'caught', guard);
        assert.equal(guarded.stacks.length, 1, guarded.stderr);
        assert.ok(framesOf(guarded.stacks[0]!).some(isGuardFrame), 'the guard is on this stack');
        assertSameBesidesGuardFrames(guarded.stacks[0]!, bare.stacks[0]!);
      }
    });

    it('an uncaught late call from a timer: Node prints the same throw line, the same frames', () => {
      const bare = run(server, 'late-timer', 'none');
      assert.notEqual(bare.status, 0);
      const banner = (stderr: string) => stderr.slice(stderr.indexOf('_http_outgoing'), stderr.indexOf('Error ['));
      const stack = (stderr: string) => stderr.slice(stderr.indexOf('Error ['));
      for (const guard of ['middleware', 'preload'] as const) {
        const guarded = run(server, 'late-timer', guard);
        assert.notEqual(guarded.status, 0);
        assert.equal(banner(guarded.stderr), banner(bare.stderr));
        assertSameBesidesGuardFrames(stack(guarded.stderr), stack(bare.stderr));
      }
    });
  });
}

describe('stacks through the guard, node:http', () => {
  it('an error the app catches itself, and an uncaught one: the same frames, guard frames only at real positions', () => {
    const bare = run('http', 'caught', 'none');
    const bareTimer = run('http', 'late-timer', 'none');
    for (const guard of ['middleware', 'preload'] as const) {
      const guarded = run('http', 'caught', guard);
      assert.equal(guarded.stacks.length, 1, guarded.stderr);
      assertSameBesidesGuardFrames(guarded.stacks[0]!, bare.stacks[0]!);
      const timer = run('http', 'late-timer', guard);
      const stack = (stderr: string) => stderr.slice(stderr.indexOf('Error ['));
      assert.equal(timer.stderr.slice(0, timer.stderr.indexOf('Error [')).split('\n').slice(-4).join('\n'), bareTimer.stderr.slice(0, bareTimer.stderr.indexOf('Error [')).split('\n').slice(-4).join('\n'));
      assertSameBesidesGuardFrames(stack(timer.stderr), stack(bareTimer.stderr));
    }
  });
});

describe("Express 4's depd deprecation site", () => {
  it('the warning names the same user line with headerGuard() and with the preload', () => {
    const warning = (stderr: string) => stderr.split('\n').filter((line) => line.includes('express deprecated')).map((line) => line.replace(/^.*?express deprecated/, 'express deprecated'));
    const bare = warning(run('express4', 'deprecated', 'none').stderr);
    assert.equal(bare.length, 1);
    assert.match(bare[0]!, /stacks-app\.js:\d+:\d+/);
    assert.deepEqual(warning(run('express4', 'deprecated', 'middleware').stderr), bare);
    assert.deepEqual(warning(run('express4', 'deprecated', 'preload').stderr), bare);
  });
});

/** What the next()-past-the-answer fixture printed. */
interface NextResult {
  status: number | string;
  reports: Array<{ kind: string; call: string; late?: string; first?: string; message: string }>;
  uncaught: string[];
}

/** Run the next()-past-the-answer fixture. */
function runNext(server: string, shape: string, mode: 'log' | 'throw', guard: 'middleware' | 'preload'): NextResult {
  const preload = guard === 'preload' ? ['--require', join(DIST, 'register.js')] : [];
  const child = spawnSync(process.execPath, [...preload, NEXT_APP, server, shape, mode, guard], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, NODE_ENV: 'development', HEADER_GUARD_MODE: mode, NODE_OPTIONS: '' },
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), child.stderr);
  return JSON.parse(line) as NextResult;
}

describe('a next() before the answer that lets routing go on past it', () => {
  for (const server of ['express4', 'express']) {
    for (const shape of ['mounted', 'plain']) {
      for (const mode of ['log', 'throw'] as const) {
        for (const guard of ['middleware', 'preload'] as const) {
          it(`${server}, ${shape === 'mounted' ? 'a mounted router' : 'an app route'}, ${mode} mode, ${guard}: the user's next() is the late site, the answer the other`, () => {
            const result = runNext(server, shape, mode, guard);
            assert.equal(result.status, 204, 'the client gets the answer in both modes');
            assert.equal(result.reports.length, 1, JSON.stringify(result));
            const report = result.reports[0]!;
            assert.equal(report.kind, 'next-after-send');
            assert.equal(report.late, `:${markerLine(NEXT_APP, `next-${shape}`)}`, report.message);
            assert.equal(report.first, `:${markerLine(NEXT_APP, `answer-${shape}`)}`, report.message);
            assert.match(report.message, /next\(\) was called before the response was sent by res\.end\(\), and let routing go on past the answer/);
            assert.doesNotMatch(report.message, /router[\\/](lib[\\/])?index\.js|Immediate/);
            assert.deepEqual(result.uncaught, mode === 'throw' ? ['ERR_HEADER_GUARD_NEXT_AFTER_SEND'] : []);
          });
        }
      }
    }

    it(`${server}: next() then a 404 handler answers, then the handler answers again: a late call at the handler's answer, first sent by the 404 handler`, () => {
      for (const guard of ['middleware', 'preload'] as const) {
        const result = runNext(server, 'then-404', 'log', guard);
        assert.equal(result.status, 404);
        assert.equal(result.reports.length, 1, JSON.stringify(result));
        const report = result.reports[0]!;
        assert.equal(report.kind, 'late-status');
        assert.equal(report.late, `:${markerLine(NEXT_APP, 'answer-plain')}`, report.message);
        assert.equal(report.first, `:${markerLine(NEXT_APP, 'not-found')}`, report.message);
      }
    });
  }
});

describe('taking the guard\'s frames out of a stack: odd inputs pass through unchanged', () => {
  const own = join(ROOT, 'src', 'patch', 'router.ts');
  const stack = ['Error: x', '    at user (/app/a.js:1:1)', `    at guardedNext (${own}:40:20)`, '    at next (/app/node_modules/router/index.js:2:2)', '    at mw (/app/b.js:3:3)'].join('\n');

  it('drops the guard\'s lines and keeps at most the app\'s limit of frames', () => {
    assert.equal(withoutOwnFrames(stack, 10), ['Error: x', '    at user (/app/a.js:1:1)', '    at next (/app/node_modules/router/index.js:2:2)', '    at mw (/app/b.js:3:3)'].join('\n'));
    assert.equal(withoutOwnFrames(stack, 2), ['Error: x', '    at user (/app/a.js:1:1)', '    at next (/app/node_modules/router/index.js:2:2)'].join('\n'));
    assert.equal(withoutOwnFrames('Error: x', 10), 'Error: x');
    const structured = [{ getFileName: () => own }];
    assert.equal(withoutOwnFrames(structured, 10), structured, 'a prepareStackTrace that returns something else than a string');
  });

  it('leaves plain objects, frozen errors and replaced stacks alone, and never throws', () => {
    const plain = { stack: stack };
    hideOwnFrames(plain);
    assert.equal(plain.stack, stack);
    const frozen = Object.freeze(new Error('frozen'));
    const before = frozen.stack;
    hideOwnFrames(frozen);
    assert.equal(frozen.stack, before);
    const replaced = new Error('replaced');
    Object.defineProperty(replaced, 'stack', { value: 'mine', writable: true, configurable: true });
    hideOwnFrames(replaced);
    assert.equal(replaced.stack, 'mine');
    const hostile = new Error('hostile');
    let reads = 0;
    Object.defineProperty(hostile, 'stack', { get() { reads++; throw new Error('no'); }, set() {}, configurable: true });
    assert.doesNotThrow(() => hideOwnFrames(hostile));
    assert.throws(() => hostile.stack, /no/, 'an accessor of the app\'s own stays its own');
    assert.equal(reads, 1);
    for (const value of [undefined, null, 'route', 42]) assert.doesNotThrow(() => hideOwnFrames(value));
  });

  it('a stack the app sets afterwards is the one it reads', () => {
    const error = new Error('later');
    hideOwnFrames(error);
    error.stack = 'set by the app';
    assert.equal(error.stack, 'set by the app');
  });
});
