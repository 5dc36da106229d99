// Response hooks (a `res.json` replaced on the response by middleware, the express-mung pattern):
// a body call that has flushed nothing has not answered, so a next(err) from inside it is no
// violation and the error handler's answer is the first send. The true cases stay reported. On
// Express 4 and 5, in log and throw mode, under app.use(headerGuard()) and under the preload;
// each route is also run without the guard, and the client must get the same answer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { RequestListener } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { headerGuard, type Violation } from '../src/index.js';
import { EXPRESS_VERSIONS, collector, listen, markerSite, request, settle, type ExpressModule } from './helpers.js';

const hooks = require('./fixtures/response-hooks.js') as { mountHooks: (app: unknown) => RequestListener; HOOKS_FILE: string };
const { mountHooks, HOOKS_FILE } = hooks;

interface Case {
  path: string;
  /** The reports expected, by kind (none for the hooks that did nothing wrong). */
  kinds: Violation['kind'][];
  /** Markers of the late call and the first send of the one report. */
  late?: string;
  first?: string;
  /** What the client gets with the guard in log mode and without it. */
  status: number;
}

const CASES: Case[] = [
  { path: '/validate', kinds: [], status: 500 },
  { path: '/validate/ok', kinds: [], status: 200 },
  { path: '/transform', kinds: [], status: 200 },
  { path: '/answer', kinds: [], status: 200 },
  { path: '/throws', kinds: [], status: 500 },
  { path: '/async', kinds: [], status: 500 },
  { path: '/validate/late', kinds: ['late-status'], late: 'hooks:validate-late:late', first: 'hooks:handler:answer', status: 500 },
  { path: '/validate/twice', kinds: ['double-send'], late: 'hooks:twice:late', first: 'hooks:twice:first', status: 200 },
  { path: '/flushed', kinds: ['error-after-send'], first: 'hooks:flushed:first', status: 200 },
];

/** The app with the hooks, guarded with `options`, or bare. */
function app(express: ExpressModule, options?: Parameters<typeof headerGuard>[0]): RequestListener {
  const instance = express();
  if (options !== undefined) instance.use(headerGuard(options));
  return mountHooks(instance);
}

for (const [version, express] of EXPRESS_VERSIONS) {
  for (const mode of ['log', 'throw'] as const) {
    describe(`response hooks, ${version}, ${mode} mode, app.use(headerGuard())`, () => {
      const { violations, onViolation } = collector();
      let guarded: Awaited<ReturnType<typeof listen>>;
      let bare: Awaited<ReturnType<typeof listen>>;
      before(async () => {
        guarded = await listen(app(express, { mode, onViolation }));
        bare = await listen(app(express));
      });
      after(async () => {
        await guarded.close();
        await bare.close();
      });

      // Throw mode's errors for the true cases escape the app (as they should): its runs are the
      // preload's below; here it must stay silent where nothing is wrong.
      for (const c of mode === 'log' ? CASES : CASES.filter((entry) => entry.kinds.length === 0)) {
        it(`${c.path}: ${c.kinds.length === 0 ? 'no report' : c.kinds.join(', ')}`, async () => {
          violations.length = 0;
          const result = await request(guarded.url + c.path);
          await settle(40);
          const expected = await request(bare.url + c.path);
          await settle(20);
          assert.deepEqual(violations.map((v) => v.kind), c.kinds, violations.map((v) => v.message).join('\n---\n'));
          const violation = violations[0];
          if (violation !== undefined) {
            if (c.first !== undefined) assert.ok(violation.message.includes(markerSite(HOOKS_FILE, c.first)), violation.message);
            if (c.late !== undefined) assert.ok(violation.message.includes(markerSite(HOOKS_FILE, c.late)), violation.message);
          }
          if (mode === 'log' || c.kinds.length === 0) {
            // Nothing reported, or log mode: the client gets what it gets without the guard.
            assert.equal(result.status, expected.status);
            assert.equal(result.body, expected.body);
            assert.equal(result.error, expected.error);
            if (result.error === undefined) assert.equal(result.status, c.status);
          }
        });
      }
    });
  }
}

describe('response hooks under the preload (header-guard/register)', () => {
  const ROOT = join(__dirname, '..');
  /** One route of the fixture in a process of its own, under the preload in `mode`. */
  function run(route: string, version: string, mode: string) {
    const env: NodeJS.ProcessEnv = { ...process.env, HEADER_GUARD_MODE: mode };
    delete env.NODE_TEST_CONTEXT;
    const child = spawnSync(process.execPath, ['--require', 'header-guard/register', HOOKS_FILE, route, version], { cwd: ROOT, encoding: 'utf8', timeout: 60000, env });
    return { status: child.status, stdout: child.stdout, stderr: child.stderr };
  }

  for (const version of ['express4', 'express5']) {
    for (const mode of ['log', 'throw']) {
      it(`${version}, ${mode} mode: a hook's next(err) before anything was sent is no violation`, () => {
        const result = run('validate', version, mode);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /client: 500 \{"message":"response failed validation"\}/);
        assert.equal(result.stderr, '');
      });
    }
    it(`${version}, throw mode: a hook's next(err) after it sent the headers fails the run`, () => {
      const result = run('flushed', version, 'throw');
      assert.notEqual(result.status, 0, result.stdout + result.stderr);
      assert.ok(result.stderr.includes('[ERR_HEADER_GUARD_ERROR_AFTER_SEND]'), result.stderr);
      assert.ok(result.stderr.includes(markerSite(HOOKS_FILE, 'hooks:flushed:first')), result.stderr);
    });
  }
});
