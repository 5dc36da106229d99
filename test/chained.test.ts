// One bug, one report: a chained late call in one statement (`res.status(500).json(x)`,
// `res.set('a', 'b').send(x)`, Fastify's `reply.code(500).send()`) after the answer is one
// report, a double send that names the earlier link the client never saw. Express 4 and 5 and
// Fastify, in log, throw and contain mode. Koa has no chained calls (`ctx.status =` and
// `ctx.body =` are statements of their own).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import headerGuardPlugin from '../src/adapters/fastify.js';
import { HeaderGuardError, headerGuard, type DoubleSendViolation, type Violation } from '../src/index.js';
import { EXPRESS_VERSIONS, catchInto, collector, markerSite, requestApp, settle, listen, request, type ExpressModule } from './helpers.js';

const FILE = __filename;
type Mode = 'log' | 'throw' | 'contain';

/** The guard's options for a mode (contain is log mode with containment). */
function optionsFor(mode: Mode, onViolation: (violation: Violation) => void) {
  return mode === 'contain' ? { mode: 'log' as const, contain: true, onViolation } : { mode, onViolation };
}

/** An Express app whose routes answer, then make one chained late call (caught into `thrown`). */
function expressApp(express: ExpressModule, mode: Mode, onViolation: (violation: Violation) => void, thrown: unknown[]) {
  const attempt = catchInto(thrown);
  const app = express();
  app.use(headerGuard(optionsFor(mode, onViolation)));
  app.get('/status-json', (req, res) => {
    res.send('first'); // @chain:status-json:first
    attempt(() => res.status(500).json({ second: true })); // @chain:status-json:late
  });
  app.get('/set-send', (req, res) => {
    res.send('first');
    attempt(() => res.set('x-late', 'secret-value').send('second')); // @chain:set-send:late
  });
  app.get('/type-send', (req, res) => {
    res.send('first');
    attempt(() => res.type('json').send()); // @chain:type-send:late
  });
  app.get('/status-only', (req, res) => {
    res.send('first');
    attempt(() => res.status(500)); // @chain:status-only:late
  });
  app.get('/two-statements', (req, res) => {
    res.send('first');
    attempt(() => {
      res.status(500); // @chain:two:status
      res.json({ second: true }); // @chain:two:json
    });
  });
  return app;
}

/** What each route reports in each mode: the kinds, and the kind of the merged earlier link, if any. */
interface Expected {
  kinds: Violation['kind'][];
  chained?: 'late-status' | 'late-header';
}

const EXPRESS_CASES: Record<string, Record<Mode, Expected>> = {
  // Node does not throw for a late status: the statement goes on to the double send, which the
  // report is about. Throw mode throws at the first link, so the double send never happens.
  '/status-json': { log: { kinds: ['double-send'], chained: 'late-status' }, contain: { kinds: ['double-send'], chained: 'late-status' }, throw: { kinds: ['late-status'] } },
  // Node throws for a late header: without containment the statement stops there.
  '/set-send': { log: { kinds: ['late-header'] }, contain: { kinds: ['double-send'], chained: 'late-header' }, throw: { kinds: ['late-header'] } },
  '/type-send': { log: { kinds: ['late-header'] }, contain: { kinds: ['double-send'], chained: 'late-header' }, throw: { kinds: ['late-header'] } },
  // A late status on its own is still reported, at the end of the synchronous run.
  '/status-only': { log: { kinds: ['late-status'] }, contain: { kinds: ['late-status'] }, throw: { kinds: ['late-status'] } },
};

/** Check the one report of a route against what is expected of it. */
function assertExpected(violations: Violation[], expected: Expected, lateMarker: string): void {
  assert.deepEqual(violations.map((violation) => violation.kind), expected.kinds, violations.map((violation) => violation.message).join('\n---\n'));
  const violation = violations[0]!;
  assert.ok(violation.message.includes(markerSite(FILE, lateMarker)), violation.message);
  const chained = (violation as DoubleSendViolation).chained;
  if (expected.chained === undefined) {
    assert.equal(chained, undefined);
    return;
  }
  assert.equal(chained?.length, 1);
  assert.equal(chained[0]!.kind, expected.chained);
  assert.equal(`${chained[0]!.offending.file.slice(process.cwd().length + 1)}:${chained[0]!.offending.line}:`, markerSite(FILE, lateMarker));
  assert.match(violation.message, /earlier in the same statement, also late: /);
  if (expected.chained === 'late-status') {
    assert.equal(chained[0]!.requestedStatus, 500);
    assert.match(violation.message, /(res\.status|reply\.code)\(500\) at .* \(the client got status 200 and never sees 500\)/);
  } else {
    assert.match(violation.message, /the client never sees this header/);
    assert.ok(!violation.message.includes('secret-value'), 'no header values');
  }
}

for (const [version, express] of EXPRESS_VERSIONS) {
  for (const mode of ['log', 'throw', 'contain'] as const) {
    describe(`chained late calls, ${version}, ${mode} mode`, () => {
      for (const [path, byMode] of Object.entries(EXPRESS_CASES)) {
        it(`${path}: ${byMode[mode].kinds.join(', ')}${byMode[mode].chained === undefined ? '' : ` naming the ${byMode[mode].chained}`}`, async () => {
          const { violations, onViolation } = collector();
          const thrown: unknown[] = [];
          const result = await requestApp(expressApp(express, mode, onViolation, thrown), path);
          await settle();
          assertExpected(violations, byMode[mode], `chain:${path.slice(1)}:late`);
          // The client got the first answer, whole.
          assert.equal(result.status, 200);
          assert.equal(result.body, 'first');
          const guardErrors = thrown.filter((error) => error instanceof HeaderGuardError);
          assert.equal(guardErrors.length, mode === 'throw' ? 1 : 0);
        });
      }

      if (mode === 'log') {
        it('two statements are two reports', async () => {
          const { violations, onViolation } = collector();
          await requestApp(expressApp(express, mode, onViolation, []), '/two-statements');
          await settle();
          assert.deepEqual(violations.map((violation) => violation.kind), ['late-status', 'double-send']);
          assert.equal((violations[1] as DoubleSendViolation).chained, undefined);
        });
      }
    });
  }
}

/** A Fastify app whose routes answer, then make one chained late call, caught by the route. */
async function fastifyApp(mode: Mode, onViolation: (violation: Violation) => void, thrown: unknown[]) {
  const attempt = catchInto(thrown);
  const app = Fastify();
  await app.register(headerGuardPlugin, optionsFor(mode, onViolation));
  app.get('/code-send', (_request, reply) => {
    reply.send('first');
    attempt(() => reply.code(500).send('second')); // @chain:code-send:late
  });
  app.get('/header-send', (_request, reply) => {
    reply.send('first');
    attempt(() => reply.header('x-late', 'secret-value').send('second')); // @chain:header-send:late
  });
  return app;
}

const FASTIFY_CASES: Record<string, Record<Mode, Expected>> = {
  // Fastify throws for neither link: the chain always reaches its send.
  '/code-send': { log: { kinds: ['double-send'], chained: 'late-status' }, contain: { kinds: ['double-send'], chained: 'late-status' }, throw: { kinds: ['late-status'] } },
  '/header-send': { log: { kinds: ['double-send'], chained: 'late-header' }, contain: { kinds: ['double-send'], chained: 'late-header' }, throw: { kinds: ['late-header'] } },
};

for (const mode of ['log', 'throw', 'contain'] as const) {
  describe(`chained late calls, Fastify, ${mode} mode`, () => {
    for (const [path, byMode] of Object.entries(FASTIFY_CASES)) {
      it(`${path}: ${byMode[mode].kinds.join(', ')}`, async () => {
        const { violations, onViolation } = collector();
        const thrown: unknown[] = [];
        const app = await fastifyApp(mode, onViolation, thrown);
        try {
          const server = await listen((req, res) => app.routing(req, res));
          await app.ready();
          try {
            const result = await request(server.url + path);
            assert.equal(result.status, 200);
            assert.equal(result.body, 'first');
          } finally {
            await server.close();
          }
          await settle();
        } finally {
          await app.close();
        }
        assertExpected(violations, byMode[mode], `chain:${path.slice(1)}:late`);
        assert.equal(thrown.filter((error) => error instanceof HeaderGuardError).length, mode === 'throw' ? 1 : 0);
      });
    }
  });
}
