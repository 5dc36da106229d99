// Differential fuzzing, fixed seed: random handler programs run without the guard, in log mode
// and with containment, on Express 5, Express 4 and node:http, each (server, variant) in its own
// process (test/differential/). Log mode must be invisible; containment must keep its contract;
// every late call gets a report naming the program's file, a correct program none.
// Any seed, more programs: `npm run fuzz -- --programs 10000 --seed 42`.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generate, SERVERS, type Program, type ServerKind } from './differential/program.js';
import { formatFailure, runAll, type Check, type RunResult } from './differential/run.js';

const SEED = 20240611;
const PROGRAMS = 250;

describe('differential fuzzing (fixed seed)', () => {
  const programs = new Map<ServerKind, Program[]>(SERVERS.map((server) => [server, generate(server, PROGRAMS, SEED)]));
  let result: RunResult;
  let started = 0;

  before(async () => {
    started = Date.now();
    result = await runAll(SERVERS.map((server) => ({ server, programs: programs.get(server)! })));
  });

  /** Fail with the first few failing programs of a check on a server. */
  function assertNone(server: ServerKind, check: Check): void {
    const failures = result.failures.filter((failure) => failure.server === server && failure.check === check);
    assert.equal(failures.length, 0, `${failures.length} of ${PROGRAMS} programs fail (seed ${SEED}; shrink with npm run fuzz -- --programs ${PROGRAMS} --seed ${SEED} --servers ${server} --checks ${check}):\n${failures.slice(0, 5).map(formatFailure).join('\n')}`);
  }

  it('ran every program on every server, and the programs cover correct and late calls', () => {
    assert.equal(result.programs, PROGRAMS * SERVERS.length);
    for (const server of SERVERS) {
      const list = programs.get(server)!;
      assert.ok(new Set(list.map((program) => JSON.stringify(program))).size > PROGRAMS * 0.9, 'programs are mostly distinct');
    }
    // How much of the space a run covers is measured on the baseline, in the report below.
    assert.ok(result.containAvailable, 'the contain variant ran');
    console.log(`differential: ${result.programs} programs x 3 variants in ${((Date.now() - started) / 1000).toFixed(1)} s; ${result.flaky} failure(s) did not happen again when run again`);
  });

  for (const server of SERVERS) {
    describe(server, () => {
      it('the programs include correct ones and late calls of every kind the server has', () => {
        const baselineLate = result.coverage.get(server)!;
        assert.ok(baselineLate.correct >= PROGRAMS * 0.15, `${baselineLate.correct} correct programs`);
        const kinds = server === 'http' ? ['late-header', 'late-status', 'write-after-end'] : ['late-header', 'late-status', 'double-send', 'write-after-end', 'next-after-send', 'error-after-send'];
        for (const kind of kinds) assert.ok((baselineLate.kinds[kind] ?? 0) >= 3, `late calls of kind ${kind}: ${baselineLate.kinds[kind] ?? 0}`);
      });

      it('log mode: the app, its callbacks, the process and the client see exactly what they see without the guard', () => {
        assertNone(server, 'log-identical');
      });

      it('log mode: every late call is reported naming the program\'s file (and the first send), a correct program never', () => {
        assertNone(server, 'log-reports');
      });

      it('contain: late calls are contained as promised, correct programs are untouched', () => {
        assertNone(server, 'contain-contract');
        assertNone(server, 'contain-reports');
      });
    });
  }
});
