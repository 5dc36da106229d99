// Regression tests for what real projects' suites showed (issue 24), each a small fixture
// (test/fixtures/real-cases.js): response validation that passes an invalid body to next(err) from
// a hooked res.json is no violation; an error handler that sets res.statusCode = 500 after the
// headers went out is a late status; a test server that answers twice is a write after the end.
// Under app.use(headerGuard()) (log mode, in-process) and under the preload (log and throw mode),
// on Express 4 and 5, each compared with the same server without the guard.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type http from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { headerGuard, type Violation } from '../src/index.js';
import { EXPRESS_VERSIONS, collector, markerSite, request, settle, type ExpressModule } from './helpers.js';

const fixture = require('./fixtures/real-cases.js') as {
  serverFor: (name: string, express: ExpressModule, guard?: unknown) => http.Server;
  REAL_CASES_FILE: string;
};
const { serverFor, REAL_CASES_FILE } = fixture;
const ROOT = join(__dirname, '..');

interface Case {
  name: string;
  /** What the guard reports, in order: the kind and the marker of the late call (none: no report). */
  reports: Array<[kind: Violation['kind'], marker: string]>;
  /** The marker of the first send every report names. */
  first?: string;
}

const CASES: Case[] = [
  { name: 'response-validation', reports: [] },
  {
    name: 'errorhandler-status',
    reports: [['error-after-send', 'real:errorhandler:thrown'], ['late-status', 'real:errorhandler:late']],
    first: 'real:errorhandler:first',
  },
  { name: 'answers-twice', reports: [['write-after-end', 'real:twice:late']], first: 'real:twice:first' },
];

/** One request to a case's server; what the client got, as a line. */
async function clientOf(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const result = await request(`http://127.0.0.1:${port}/`);
    return result.error === undefined ? `client: ${result.status} ${result.body}` : 'client error';
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

for (const [version, express] of EXPRESS_VERSIONS) {
  describe(`real cases, ${version}, app.use(headerGuard())`, () => {
    for (const c of CASES) {
      it(`${c.name}: ${c.reports.length === 0 ? 'no report' : c.reports.map(([kind]) => kind).join(', ')}; the client gets what it gets without the guard`, async () => {
        const { violations, onViolation } = collector();
        const guarded = await clientOf(serverFor(c.name, express, headerGuard({ onViolation })));
        await settle();
        const bare = await clientOf(serverFor(c.name, express));
        await settle();
        assert.equal(guarded, bare);
        assert.deepEqual(violations.map((violation) => violation.kind), c.reports.map(([kind]) => kind), violations.map((violation) => violation.message).join('\n---\n'));
        c.reports.forEach(([, marker], index) => {
          const message = violations[index]!.message;
          assert.ok(message.includes(markerSite(REAL_CASES_FILE, marker)), message);
          if (c.first !== undefined) assert.ok(message.includes(markerSite(REAL_CASES_FILE, c.first)), message);
        });
      });
    }
  });
}

describe('real cases under the preload (header-guard/register)', () => {
  /** A case in a process of its own under the preload (or bare, with mode `none`). */
  function run(name: string, version: string, mode: 'none' | 'log' | 'throw') {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    delete env.HEADER_GUARD_MODE;
    if (mode !== 'none') env.HEADER_GUARD_MODE = mode;
    const args = mode === 'none' ? [REAL_CASES_FILE, name, version] : ['--require', 'header-guard/register', REAL_CASES_FILE, name, version];
    const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 60000, env });
    return { status: child.status, stdout: child.stdout, stderr: child.stderr };
  }

  for (const version of ['express4', 'express5']) {
    for (const c of CASES) {
      // The node:http case uses no Express: once is enough.
      if (c.name === 'answers-twice' && version === 'express5') continue;
      it(`${version}, ${c.name}: log mode reports it and changes nothing; throw mode ${c.reports.length === 0 ? 'passes' : 'fails the run'}`, () => {
        const bare = run(c.name, version, 'none');
        const log = run(c.name, version, 'log');
        assert.equal(log.stdout, bare.stdout);
        assert.equal(log.status, 0, log.stderr);
        for (const [kind, marker] of c.reports) {
          assert.ok(log.stderr.includes(markerSite(REAL_CASES_FILE, marker)), `${kind}: ${log.stderr}`);
        }
        if (c.reports.length === 0) assert.equal(log.stderr, '');
        const strict = run(c.name, version, 'throw');
        if (c.reports.length === 0) {
          assert.equal(strict.status, 0, strict.stderr);
          assert.equal(strict.stdout, bare.stdout);
          assert.equal(strict.stderr, '');
        } else {
          assert.notEqual(strict.status, 0, strict.stdout + strict.stderr);
          assert.match(strict.stderr, /HeaderGuardError: header-guard: /);
          const [lastKind, lastMarker] = c.reports[c.reports.length - 1]!;
          assert.ok(strict.stderr.includes(markerSite(REAL_CASES_FILE, lastMarker)), `${lastKind}: ${strict.stderr}`);
        }
      });
    }
  }
});
