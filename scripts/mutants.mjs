// npm run mutants: a scripted mutation run. Each mutant is one small deliberate break of src/ (a
// default, a comparison, a branch of a contract); the suite must fail on every one. For each,
// the file is changed, the mutation test set runs on src/ through tsx, and the file is restored
// (also on Ctrl-C): commit, build and run nothing else while it runs. Prints a table and the
// score; exits 1 when a mutant survives.
//
//   npm run mutants [-- --only <name>]
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { only: { type: 'string' } } });

/** The tests each mutant runs against: the contracts, on src/ (no build needed). */
const TESTS = [
  'test/violations.test.ts', 'test/log-contract.test.ts', 'test/options.test.ts', 'test/beyond.test.ts',
  'test/middleware.test.ts', 'test/plain-http.test.ts', 'test/readme.test.ts', 'test/differential.test.ts',
];

/** name, file, the text to find (exactly once), what replaces it, and what the break means. */
const MUTANTS = [
  ['production-capture-always', 'src/options.ts', "capture = production ? 'adaptive' : 'always',", "capture = 'always',", 'the production default capture becomes always'],
  ['hang-zero-ignored', 'src/options.ts', '    hangTimeoutMs,\n    trackHeaders: trackHeaders || lint,', '    hangTimeoutMs: hangTimeoutMs || 30_000,\n    trackHeaders: trackHeaders || lint,', 'hangTimeoutMs: 0 ignored, the 30 s default used'],
  ['hang-thrown', 'src/kinds.ts', "REPORT_ONLY_KINDS: readonly ViolationKind[] = ['hang', ", 'REPORT_ONLY_KINDS: readonly ViolationKind[] = [', 'a hang thrown in throw mode'],
  ['log-mode-contains', 'src/report/flag.ts', '  if (thrownBy === undefined) return contain;', '  if (thrownBy === undefined) return true;', "log mode swallows Node's throw for a late call"],
  ['late-status-vs-current', 'src/patch/response.ts', 'isStatusCode(code) && code !== statusSent(state)', 'isStatusCode(code) && code !== state.statusCode', 'a late status compared with the current status, not the one sent'],
  ['node-error-reported-twice', 'src/patch/response.ts', '    if (threw) state.lateThrew = true;', '', "Node's error from a reported call reported again as error-after-send"],
  ['contain-closes-at-once', 'src/patch/contain.ts', 'if (!writableEnded(self)) setImmediate(closeUnended, state, self);', 'if (!writableEnded(self)) closeUnended(state, self);', 'containment cuts a response the app ends right after catching'],
  ['values-always-printed', 'src/report/build.ts', 'return includeValues && args.length > 1 &&', 'return args.length > 1 &&', 'header values printed without includeValues'],
  ['wrappers-in-own-file', 'src/patch/prototypes.ts', '      file,\n', '      file: undefined,\n', "Express's wrappers compiled under the guard's file (depd names the guard)"],
  ['no-shared-engine', 'src/engine.ts', '  return existing.protocol === PROTOCOL ? existing : standAside(existing);', '  return own;', 'a second copy keeps its own engine'],
  ['status-setter-depth-zero', 'src/patch/status-code.ts', 'if (state.quiet === 0 && state.bodyDepth === 0 &&', 'if (state.depth === 0 && state.quiet === 0 && state.bodyDepth === 0 &&', 'a late statusCode inside a format() callback unreported'],
  ['still-sending-after-end', 'src/report/flag.ts', "stillSending: kind === 'double-send' && !headersSent(res) && !writableEnded(res),", "stillSending: kind === 'double-send' && !headersSent(res),", "a second send after a client abort called 'still sending'"],
];

const selected = MUTANTS.filter(([name]) => values.only === undefined || name === values.only);
let restore;
process.on('SIGINT', () => {
  restore?.();
  process.exit(130);
});

const rows = [];
let killed = 0;
for (const [name, file, find, replace, meaning] of selected) {
  const path = join(root, file);
  const original = readFileSync(path, 'utf8');
  if (original.split(find).length !== 2) throw new Error(`mutant ${name}: the text to change is not in ${file} exactly once`);
  restore = () => writeFileSync(path, original);
  writeFileSync(path, original.replace(find, replace));
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=dot', ...TESTS], {
    cwd: root, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'test' }, timeout: 600_000,
  });
  restore();
  restore = undefined;
  const dead = run.status !== 0;
  if (dead) killed++;
  rows.push(`| ${name} | ${meaning} | ${dead ? 'killed' : 'SURVIVED'} | ${((Date.now() - started) / 1000).toFixed(0)} s |`);
  console.log(rows.at(-1));
}
console.log(`\nmutation score: ${killed} of ${selected.length} killed`);
if (killed < selected.length) process.exitCode = 1;
