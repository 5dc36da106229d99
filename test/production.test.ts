// Production options: adaptive capture, dedupe with repeat counts, redaction and includeValues,
// stats(), the diagnostics channel; then, in a child process, a flood of buggy requests and
// 100k requests for a flat heap.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { headerGuard, resetStats, stats, type HeaderGuardOptions, type Violation } from '../src/index.js';
import { EXPRESS_VERSIONS, collector, listen, markerLine, request, settle, offendingOf } from './helpers.js';

const [, express] = EXPRESS_VERSIONS[1]!;

function buggyApp(options: HeaderGuardOptions) {
  const app = express();
  app.use(headerGuard(options));
  app.get('/users/:id', (req, res) => {
    res.cookie('sid', 'cookie-secret').json({ id: req.params.id }); // @prod:first
    res.set('x-token', 'header-secret'); // @prod:late
  });
  app.get('/other', (req, res) => {
    res.send('ok');
    res.status(500);
  });
  return app;
}

async function hit(app: ReturnType<typeof buggyApp>, paths: string[]): Promise<void> {
  const server = await listen(app);
  try {
    for (const path of paths) await request(server.url + path);
    await settle(10);
  } finally {
    await server.close();
  }
}

describe('capture', () => {
  it("adaptive: the first report names the late call; from the next one on that route, both sites", async () => {
    const { violations, onViolation } = collector();
    await hit(buggyApp({ capture: 'adaptive', onViolation }), ['/users/1', '/users/2', '/other']);
    assert.equal(violations.length, 3);
    const [first, second, other] = violations as [Violation, Violation, Violation];
    assert.ok(offendingOf(first), 'the offending call is always captured');
    assert.equal(first.firstSent, undefined);
    assert.equal(first.firstSentCall, 'res.json()');
    assert.match(first.message, /not captured: capture is adaptive, and the next report on this route names it/);
    assert.ok(second.firstSent, 'the second violation on the route names the first send');
    assert.equal(second.firstSent?.line, markerLine(__filename, 'prod:first'));
    assert.equal(offendingOf(second)?.line, markerLine(__filename, 'prod:late'));
    assert.equal(other.firstSent, undefined, 'another route is not captured yet');
  });

  it("off: never captures earlier sites; the late call still is", async () => {
    const { violations, onViolation } = collector();
    await hit(buggyApp({ capture: 'off', onViolation }), ['/users/1', '/users/2']);
    assert.equal(violations.length, 2);
    for (const violation of violations) {
      assert.ok(offendingOf(violation));
      assert.equal(violation.firstSent, undefined);
      assert.match(violation.message, /not captured: capture is off/);
    }
  });
});

describe('dedupe', () => {
  it('reports the same violation once per window, then with the count of repeats', async () => {
    const { violations, onViolation } = collector();
    const app = buggyApp({ dedupeWindowMs: 150, onViolation });
    await hit(app, ['/users/1', '/users/2', '/users/3', '/users/4']);
    assert.equal(violations.length, 1);
    await settle(200);
    await hit(app, ['/users/5']);
    assert.equal(violations.length, 2);
    assert.equal(violations[1]?.repeated, 3);
    assert.match(violations[1]!.message, /\(3 more times since it was last reported\)/);
  });

  it('logs bounded under dedupe, and the channel still sees every violation', async () => {
    const lines: string[] = [];
    const seen: Violation[] = [];
    const subscriber = (message: unknown) => seen.push((message as { violation: Violation }).violation);
    diagnosticsChannel.subscribe('header-guard:violation', subscriber);
    try {
      await hit(buggyApp({ dedupeWindowMs: 60_000, logger: { warn: (line: string) => lines.push(line) } }), Array.from({ length: 20 }, (_, i) => `/users/${i}`));
    } finally {
      diagnosticsChannel.unsubscribe('header-guard:violation', subscriber);
    }
    assert.equal(lines.length, 1);
    assert.equal(seen.length, 20);
  });
});

describe('onViolation under dedupe (docs/production.md, "When onViolation is called")', () => {
  /** An app whose handler makes the same late status on every request, and catches what it throws. */
  function lateStatusApp(options: HeaderGuardOptions) {
    const app = express();
    app.use(headerGuard(options));
    app.get('/', (req, res) => {
      res.send('ok');
      try {
        res.status(500);
      } catch {
        // throw mode: the HeaderGuardError, kept by the app
      }
    });
    return app;
  }

  it('throw mode: every thrown violation reaches onViolation, repeats included', async () => {
    const { violations, onViolation } = collector();
    await hit(lateStatusApp({ mode: 'throw', dedupeWindowMs: 60_000, onViolation }), ['/', '/', '/']);
    assert.equal(violations.length, 3);
  });

  it('throw mode, a logOnly kind: not thrown, so deduplicated like log mode', async () => {
    const { violations, onViolation } = collector();
    await hit(lateStatusApp({ mode: 'throw', logOnly: ['late-status'], dedupeWindowMs: 60_000, onViolation }), ['/', '/', '/']);
    assert.equal(violations.length, 1);
  });
});

describe('redaction', () => {
  it('never prints header values, cookie values or query strings by default', async () => {
    const { violations, onViolation } = collector();
    await hit(buggyApp({ onViolation }), ['/users/1?token=query-secret']);
    const violation = violations[0]!;
    assert.equal(violation.call, "res.set('x-token')");
    assert.equal(violation.path, '/users/1');
    assert.ok(!/secret/.test(violation.message), violation.message);
  });

  it("prints a body call's argument only with includeValues: true, shortened to 100 characters", async () => {
    const shown: string[] = [];
    for (const includeValues of [false, true]) {
      const { violations, onViolation } = collector();
      const app = express();
      app.use(headerGuard({ onViolation, includeValues }));
      app.get('/', (req, res) => {
        res.send('first');
        res.send(`body-secret ${'x'.repeat(300)}`);
      });
      await hit(app as ReturnType<typeof buggyApp>, ['/']);
      shown.push(violations[0]?.call ?? '');
    }
    assert.equal(shown[0], 'res.send()');
    assert.equal(shown[1], `res.send('body-secret ${'x'.repeat(100 - "'body-secret ".length)}…)`);
  });

  it('prints them with includeValues: true', async () => {
    const { violations, onViolation } = collector();
    await hit(buggyApp({ onViolation, includeValues: true }), ['/users/1?token=query-secret']);
    const violation = violations[0]!;
    assert.equal(violation.call, "res.set('x-token', 'header-secret')");
    assert.equal(violation.path, '/users/1?token=query-secret');
  });
});

describe('stats()', () => {
  beforeEach(resetStats);

  it('counts violations per kind and per route', async () => {
    await hit(buggyApp({ logger: { warn: () => undefined } }), ['/users/1', '/users/2', '/other']);
    const snapshot = stats();
    assert.equal(snapshot.total, 3);
    assert.equal(snapshot.byKind['late-header'], 2);
    assert.equal(snapshot.byKind['late-status'], 1);
    assert.deepEqual(snapshot.byRoute['GET /users/:id'], { 'late-header': 2 });
    assert.deepEqual(snapshot.byRoute['GET /other'], { 'late-status': 1 });
    resetStats();
    assert.equal(stats().total, 0);
  });
});

describe('under load (child process, --expose-gc)', () => {
  const script = join(__dirname, 'fixtures', 'flood.ts');
  const run = (mode: string) => {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, mode], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, NODE_ENV: 'production' },
    });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as {
      sent: number;
      answered: number;
      failed: number;
      logLines: number;
      violations: number;
      heapGrowthMB: number;
    };
  };

  it('a flood of buggy requests: every one answered, the log bounded, the server up', () => {
    const result = run('flood');
    assert.equal(result.answered, result.sent);
    assert.equal(result.failed, 0);
    assert.ok(result.violations >= result.sent, `violations counted: ${result.violations}`);
    // One report per route without the first-send site, one with it (adaptive), then deduped.
    assert.ok(result.logLines <= 8, `log lines: ${result.logLines}`);
    assert.ok(result.heapGrowthMB < 8, `heap grew by ${result.heapGrowthMB} MB`);
  });

  it('100k requests: the heap stays flat', () => {
    const result = run('memory');
    assert.equal(result.answered, 100_000);
    assert.ok(result.heapGrowthMB < 5, `heap grew by ${result.heapGrowthMB} MB between 20k and 100k requests`);
  });
});
