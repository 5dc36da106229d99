// The differential fuzzer's driver: runs batches of programs in worker processes (one per server
// and variant, all at once), checks every program, and shrinks failing ones to a smallest program
// that still fails the same check. Used by test/differential.test.ts and by `npm run fuzz`.
import { availableParallelism } from 'node:os';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkContained, checkIdentical, checkReports, isCorrect, lateSteps } from './compare.js';
import { describeProgram, shrinkCandidates, type Program, type ServerKind, type Variant } from './program.js';
import type { Observation, WorkerOutput } from './worker.js';

const WORKER = join(__dirname, 'worker.ts');
const ROOT = join(__dirname, '..', '..');

/** Run one batch in a fresh process: the baseline's process never loads the guard. */
export async function runBatch(server: ServerKind, variant: Variant, programs: Program[]): Promise<WorkerOutput> {
  const dir = mkdtempSync(join(tmpdir(), 'header-guard-fuzz-'));
  try {
    const input = join(dir, 'programs.json');
    const output = join(dir, 'observations.json');
    writeFileSync(input, JSON.stringify(programs));
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', WORKER, server, variant, input, output], {
        cwd: ROOT, env: { ...process.env, NODE_ENV: 'test' }, maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000,
      }, (error, _stdout, stderr) => (error ? reject(new Error(`worker ${server}/${variant} failed: ${error.message}\n${stderr}`)) : resolve()));
    });
    const result = JSON.parse(readFileSync(output, 'utf8')) as WorkerOutput;
    if (result.available && result.observations.length !== programs.length) throw new Error(`worker ${server}/${variant} observed ${result.observations.length} of ${programs.length} programs`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Which check a failure is of: log mode's identity, containment's contract, or the reports of either. */
export type Check = 'log-identical' | 'log-reports' | 'contain-contract' | 'contain-reports';

/** One program's problems under one check. */
export interface Failure {
  server: ServerKind;
  check: Check;
  index: number;
  program: Program;
  problems: string[];
}

/** The problems of one program under one check, given its baseline and its guarded observation. */
export function check(checkName: Check, program: Program, baseline: Observation, guarded: Observation): string[] {
  switch (checkName) {
    case 'log-identical': return checkIdentical(program, baseline, guarded);
    case 'log-reports': case 'contain-reports': return checkReports(program, baseline, guarded);
    case 'contain-contract': return checkContained(program, baseline, guarded);
  }
}

const VARIANT_OF: Record<Check, Variant> = { 'log-identical': 'log', 'log-reports': 'log', 'contain-contract': 'contain', 'contain-reports': 'contain' };

/** What a run found, per server. */
export interface RunResult {
  failures: Failure[];
  /** Failures that did not happen again when their programs ran again (a busy machine's timing). */
  flaky: number;
  /** Whether the guard has the contain option. */
  containAvailable: boolean;
  programs: number;
  /** Per server, from the baseline: how many programs were correct, and late steps per kind. */
  coverage: Map<ServerKind, { correct: number; kinds: Record<string, number> }>;
}

/**
 * Run `jobs`, at most `limit` at a time, in order of their results. Programs time their steps
 * (timers, a client that waits HANG_MS for an answer): more processes than cores would make a
 * busy machine, not the guard, decide some outcomes.
 */
async function pooled<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, lane));
  return results;
}

/** Run programs on every server in all three variants (one process per core at a time) and check them all. */
export async function runAll(batches: Array<{ server: ServerKind; programs: Program[] }>): Promise<RunResult> {
  const variants: Variant[] = ['none', 'log', 'contain'];
  const jobs = batches.flatMap(({ server, programs }) => variants.map((variant) => () => runBatch(server, variant, programs)));
  const outputs = await pooled(jobs, Math.max(1, availableParallelism()));
  const failures: Failure[] = [];
  let containAvailable = true;
  const coverage: RunResult['coverage'] = new Map();
  batches.forEach(({ server, programs }, b) => {
    const [none, log, contain] = outputs.slice(b * 3, b * 3 + 3) as [WorkerOutput, WorkerOutput, WorkerOutput];
    containAvailable &&= contain.available;
    const covered = { correct: 0, kinds: {} as Record<string, number> };
    coverage.set(server, covered);
    programs.forEach((program, index) => {
      const baseline = none.observations[index]!;
      if (isCorrect(program, baseline)) covered.correct++;
      for (const late of lateSteps(program, baseline)) covered.kinds[late.kinds[0]!] = (covered.kinds[late.kinds[0]!] ?? 0) + 1;
      const checks: Array<[Check, Observation | undefined]> = [
        ['log-identical', log.observations[index]], ['log-reports', log.observations[index]],
        ['contain-contract', contain.observations[index]], ['contain-reports', contain.observations[index]],
      ];
      for (const [name, guarded] of checks) {
        if (guarded === undefined) continue;
        const problems = check(name, program, baseline, guarded);
        if (problems.length > 0) failures.push({ server, check: name, index, program, problems });
      }
    });
  });
  const confirmed = await confirm(failures);
  return { failures: confirmed, flaky: failures.length - confirmed.length, containAvailable, coverage, programs: batches.reduce((sum, batch) => sum + batch.programs.length, 0) };
}

/** How many more times a failing program runs, baseline and guarded alike, before it counts. */
const CONFIRMATIONS = 2;

/**
 * Keep the failures that happen again: the program runs again, without the guard and with it, in
 * fresh processes, CONFIRMATIONS times, and fails each time. What the guard does to a program is
 * the same on every run; what a busy machine does to a program's timers and its client is not.
 */
async function confirm(failures: Failure[]): Promise<Failure[]> {
  let kept = failures;
  for (let round = 0; round < CONFIRMATIONS && kept.length > 0; round++) {
    const groups = new Map<string, Failure[]>();
    for (const failure of kept) {
      const key = `${failure.server} ${VARIANT_OF[failure.check]}`;
      groups.set(key, [...(groups.get(key) ?? []), failure]);
    }
    const next: Failure[] = [];
    for (const group of groups.values()) {
      const { server, check: name } = group[0]!;
      const programs = group.map((failure) => failure.program);
      const [none, guarded] = await Promise.all([runBatch(server, 'none', programs), runBatch(server, VARIANT_OF[name], programs)]);
      group.forEach((failure, i) => {
        const problems = check(failure.check, failure.program, none.observations[i]!, guarded.observations[i]!);
        if (problems.length > 0) next.push(failure);
      });
    }
    kept = next;
  }
  return kept;
}

/**
 * Shrink a failing program: try simpler candidates (a step less, a step made synchronous, fewer
 * arguments) in one batch per round, keep the first that still fails the same check, until none does.
 */
export async function shrink(failure: Failure, maxRounds = 30): Promise<Failure> {
  let best = failure;
  for (let round = 0; round < maxRounds; round++) {
    const candidates = shrinkCandidates(best.program);
    if (candidates.length === 0) break;
    const [none, guarded] = await Promise.all([runBatch(best.server, 'none', candidates), runBatch(best.server, VARIANT_OF[best.check], candidates)]);
    if (!guarded.available) break;
    const found = candidates.findIndex((program, i) => check(best.check, program, none.observations[i]!, guarded.observations[i]!).length > 0);
    if (found < 0) break;
    const program = candidates[found]!;
    best = { ...best, program, problems: check(best.check, program, none.observations[found]!, guarded.observations[found]!) };
  }
  return best;
}

/** A failure for people: server, check, the program on one line, its problems. */
export function formatFailure(failure: Failure): string {
  return `${failure.server} ${failure.check}: ${describeProgram(failure.program)}\n${failure.problems.map((problem) => `    ${problem}`).join('\n')}`;
}
