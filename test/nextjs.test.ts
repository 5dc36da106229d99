// examples/nextjs, end to end: a Next.js 16 pages-router app in TypeScript that guards itself
// from instrumentation.ts (header-guard/next), built once with `next build` and served by
// `next start` (also without instrumentation.js, bare and under the header-guard/register
// preload), then served by `next dev`. Real requests over loopback; each bug gives exactly
// one report naming both of its lines in the app's own .ts files, the correct routes give none,
// and every client gets the same answer as from the same build without the guard.
//
// The app is copied into a temporary project whose node_modules holds header-guard as npm
// installs it (package.json and dist/, its dependencies linked) and links to the repository's
// Next.js and React; the servers run in their own process groups, killed however the test ends.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request, type ClientResult } from './helpers.js';

const ROOT = join(__dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'nextjs');
const NEXT_BIN = join(ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
const REPORTER = join(__dirname, 'fixtures', 'next-reports.cjs');

/** One report as the fixture writes it. */
interface Report {
  kind: string;
  call: string;
  path: string;
  offending?: { file: string; line: number };
  firstSent?: { file: string; line: number };
  firstSentCall?: string;
  chained?: Array<{ kind: string; call: string; offending: { file: string; line: number } }>;
}

/** What one request should give: the client's status, and the report (or none). */
interface Case {
  path: string;
  status: number;
  report?: { kind: string; call: string; file: string; late: string; first?: string; chained?: string };
}

/** The 1-based line of the one line of an example file that contains `text`. */
function lineOf(file: string, text: string): number {
  const lines = readFileSync(join(EXAMPLE, file), 'utf8').split('\n');
  const found = lines.flatMap((line, index) => (line.includes(text) ? [index + 1] : []));
  assert.equal(found.length, 1, `${text} in ${file}`);
  return found[0] as number;
}

const CASES: Case[] = [
  { path: '/api/item?id=x', status: 400, report: { kind: 'double-send', call: 'res.json()', file: 'pages/api/item.ts', late: 'res.status(200).json', first: 'res.status(400).json', chained: 'res.status(200)' } },
  { path: '/api/item?id=3', status: 200 },
  { path: '/api/late-header', status: 200, report: { kind: 'late-header', call: "res.setHeader('Cache-Control')", file: 'pages/api/late-header.ts', late: "res.setHeader('Cache-Control'", first: 'res.json(' } },
  { path: '/api/late-timer', status: 200, report: { kind: 'late-header', call: "res.setHeader('X-Took')", file: 'pages/api/late-timer.ts', late: "res.setHeader('X-Took'", first: 'res.json(' } },
  { path: '/api/redirect', status: 307, report: { kind: 'double-send', call: 'res.send()', file: 'pages/api/redirect.ts', late: "res.send('welcome')", first: 'res.redirect(' } },
  { path: '/api/ok', status: 200 },
  { path: '/api/ok?fail=1', status: 400 },
  { path: '/login', status: 200 },
  // Next.js itself sends getServerSideProps' redirect: the first send is in Next's code.
  { path: '/account', status: 307, report: { kind: 'late-header', call: "res.setHeader('Set-Cookie')", file: 'pages/account.tsx', late: "res.setHeader('Set-Cookie'" } },
];

/** A free loopback port. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Make the temporary project: the example, header-guard as installed, Next.js and React linked. */
function makeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'header-guard-next-'));
  cpSync(EXAMPLE, dir, { recursive: true, filter: (source) => !/[\\/](\.next|node_modules)$/.test(source) });
  const modules = join(dir, 'node_modules');
  const installed = join(modules, 'header-guard');
  mkdirSync(installed, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
  cpSync(join(ROOT, 'dist'), join(installed, 'dist'), { recursive: true });
  const link = (name: string): void => {
    const target = join(modules, name);
    if (existsSync(target)) return;
    mkdirSync(join(target, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), target, 'dir');
    const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) if (existsSync(join(ROOT, 'node_modules', dependency))) link(dependency);
  };
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of [...Object.keys(own.dependencies), 'next', 'react', 'react-dom', 'typescript', '@types/react', '@types/node']) link(name);
  // Turbopack compiles only files under its root: the linked packages live in the repository.
  renameSync(join(dir, 'next.config.mjs'), join(dir, 'example.config.mjs'));
  writeFileSync(join(dir, 'next.config.mjs'), "import example from './example.config.mjs';\nexport default { ...example, turbopack: { root: '/' } };\n");
  return dir;
}

/** The environment of every Next.js process: Next sets NODE_ENV itself; the reports go to `reports`. */
function nextEnv(reports: string, preload = ''): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', HEADER_GUARD_REPORTS: reports, HEADER_GUARD_MODE: 'log', NODE_OPTIONS: `${preload} --require ${REPORTER}`.trim() };
  delete env.NODE_ENV;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Servers still running: killed with their process groups when a test ends, however it ends. */
const running = new Set<ChildProcess>();

/** Kill a server's whole process group (`next dev` runs its server in a child process). */
function kill(child: ChildProcess): void {
  running.delete(child);
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}
process.on('exit', () => {
  for (const child of running) kill(child);
});

/** Start `next start` or `next dev` on a free port; resolve once it answers. */
async function serve(dir: string, command: 'start' | 'dev', reports: string, preload = ''): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [NEXT_BIN, command, '-p', String(port), '-H', '127.0.0.1'], { cwd: dir, env: nextEnv(reports, preload), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!/Ready in/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      kill(child);
      throw new Error(`next ${command} did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, child, output: () => output };
}

/** The reports written so far. */
function readReports(file: string): Report[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Report);
}

/** What a client's answer is compared on: status, body and headers but the date. */
function answerOf(result: ClientResult): { status: number; body: string; headers: Record<string, unknown> } {
  const headers: Record<string, unknown> = { ...result.headers };
  delete headers.date;
  return { status: result.status, body: result.body, headers };
}

/** Send every case once, in order; resolve with the answers and the reports of each. */
async function runCases(url: string, reports: string): Promise<Array<{ answer: ReturnType<typeof answerOf>; reports: Report[] }>> {
  const results: Array<{ answer: ReturnType<typeof answerOf>; reports: Report[] }> = [];
  for (const testCase of CASES) {
    const seen = readReports(reports).length;
    const answer = answerOf(await request(url + testCase.path, { timeout: 60_000 }));
    // Late calls from timers come after the answer: give them time, and any stray report too.
    const expected = testCase.report === undefined ? 0 : 1;
    const deadline = Date.now() + 3_000;
    while (readReports(reports).length - seen < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 150));
    results.push({ answer, reports: readReports(reports).slice(seen) });
  }
  return results;
}

/** Each case: the client's status, and exactly its one report naming both lines (or none). */
function checkCases(dir: string, results: Array<{ answer: ReturnType<typeof answerOf>; reports: Report[] }>): void {
  CASES.forEach((testCase, index) => {
    const { answer, reports } = results[index]!;
    assert.equal(answer.status, testCase.status, `${testCase.path}: ${answer.body.slice(0, 200)}`);
    const expected = testCase.report;
    if (expected === undefined) {
      assert.deepEqual(reports, [], `${testCase.path} is correct: no report`);
      return;
    }
    assert.equal(reports.length, 1, `${testCase.path}: one report, got ${JSON.stringify(reports, null, 2)}`);
    const report = reports[0]!;
    assert.equal(report.kind, expected.kind, testCase.path);
    assert.equal(report.call, expected.call, testCase.path);
    const file = join(dir, expected.file);
    assert.deepEqual([report.offending?.file, report.offending?.line], [file, lineOf(expected.file, expected.late)], `${testCase.path}: the late call`);
    if (expected.first !== undefined) {
      assert.deepEqual([report.firstSent?.file, report.firstSent?.line], [file, lineOf(expected.file, expected.first)], `${testCase.path}: the first send`);
    } else {
      assert.ok(report.firstSentCall !== undefined, `${testCase.path}: the first send is named`);
    }
    if (expected.chained !== undefined) {
      assert.deepEqual(report.chained?.map((link) => [link.call, link.offending.file, link.offending.line]), [[expected.chained, file, lineOf(expected.file, expected.late)]], testCase.path);
    }
  });
}

describe('examples/nextjs (Next.js 16, pages router, instrumentation.ts)', { timeout: 600_000 }, () => {
  let dir = '';
  const timings: string[] = [];

  before(async () => {
    dir = makeProject();
    const started = Date.now();
    const build = spawn(process.execPath, [NEXT_BIN, 'build'], { cwd: dir, env: nextEnv(join(dir, 'build-reports.jsonl')), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(build);
    let output = '';
    build.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    build.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => build.on('close', resolve));
    running.delete(build);
    assert.equal(code, 0, `next build failed:\n${output}`);
    timings.push(`next build ${Date.now() - started} ms`);
  });

  after(() => {
    for (const child of running) kill(child);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`# nextjs timings: ${timings.join(', ')}\n`);
  });

  it('next start, from instrumentation.ts and from the preload: one report per bug naming its .ts lines, correct routes silent, every answer as without the guard', async () => {
    // The same build without the guard: Next.js serves on when it finds no instrumentation.
    const instrumentation = join(dir, '.next', 'server', 'instrumentation.js');
    renameSync(instrumentation, `${instrumentation}.off`);
    const baselineReports = join(dir, 'baseline.jsonl');
    let baseline: Awaited<ReturnType<typeof runCases>>;
    const bare = await serve(dir, 'start', baselineReports);
    try {
      baseline = await runCases(bare.url, baselineReports);
    } finally {
      kill(bare.child);
      renameSync(`${instrumentation}.off`, instrumentation);
    }
    assert.deepEqual(readReports(baselineReports), [], 'no guard, no report');

    // The same build, still without instrumentation.js, under the preload instead.
    renameSync(instrumentation, `${instrumentation}.off`);
    const preloadReports = join(dir, 'preload.jsonl');
    const preloaded = await serve(dir, 'start', preloadReports, `--require ${join(dir, 'node_modules', 'header-guard', 'dist', 'register.js')}`);
    try {
      const results = await runCases(preloaded.url, preloadReports);
      checkCases(dir, results);
      results.forEach((result, index) => assert.deepEqual(result.answer, baseline[index]!.answer, `${CASES[index]!.path}: the same answer under the preload`));
    } finally {
      kill(preloaded.child);
      renameSync(`${instrumentation}.off`, instrumentation);
    }

    const reports = join(dir, 'start.jsonl');
    const guarded = await serve(dir, 'start', reports);
    try {
      const results = await runCases(guarded.url, reports);
      checkCases(dir, results);
      results.forEach((result, index) => assert.deepEqual(result.answer, baseline[index]!.answer, `${CASES[index]!.path}: the same answer as without the guard`));
    } finally {
      kill(guarded.child);
    }
  });

  it('next dev: the same reports from its server process, with the first compile of each route', async () => {
    const reports = join(dir, 'dev.jsonl');
    const started = Date.now();
    const dev = await serve(dir, 'dev', reports);
    try {
      timings.push(`next dev ready ${Date.now() - started} ms`);
      const first = Date.now();
      await request(`${dev.url}/api/ok`, { timeout: 60_000 });
      timings.push(`next dev first compile (/api/ok) ${Date.now() - first} ms`);
      const results = await runCases(dev.url, reports);
      checkCases(dir, results);
      // The guard runs in the server process, not in the `next dev` parent.
      assert.ok(readReports(reports).every((report) => (report as Report & { pid: number }).pid !== dev.child.pid));
    } finally {
      kill(dev.child);
    }
  });
});
