// The README's and docs/'s statements checked against the code: the options table lists exactly
// the options the guard validates; the kinds tables (README, docs/reports.md, docs/log-contract.md)
// every kind; the error-code table every code; the preload's variables the ones it reads; and
// every relative link of the README and docs/ points at a file that exists; docs/api.md lists
// every entry point and exactly what each exports.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes, VIOLATION_KINDS } from '../src/index.js';
import { KNOWN_OPTIONS } from '../src/options.js';

const ROOT = join(__dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** The rows of the markdown table that follows `heading` in `text`, as arrays of cells. */
function tableAfter(text: string, heading: string): string[][] {
  const start = text.indexOf(heading);
  assert.ok(start !== -1, `has ${heading}`);
  const lines = text.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

/** The backticked names in a cell: `mode` -> mode; `onViolation(violation, req, res)` -> onViolation. */
function names(cell: string): string[] {
  return [...cell.matchAll(/`([A-Za-z_-]+)/g)].map((match) => match[1] as string);
}

/** The kinds a table's first column names ("lint kinds" standing for the three lint kinds). */
function kindsOf(rows: string[][]): string[] {
  const listed = rows.flatMap((row) => names(row[0] ?? '').concat(row[0]?.includes('lint kinds') ? ['duplicate-header', 'body-on-no-content', 'content-length-mismatch'] : []));
  return [...new Set(listed)].sort();
}

describe('README', () => {
  const README = read('README.md');

  it('the options table lists exactly the options headerGuard() accepts', () => {
    const listed = tableAfter(README, '## Options').map((row) => names(row[0] ?? '')[0]);
    assert.deepEqual([...listed].sort(), [...KNOWN_OPTIONS].sort());
  });

  it('the "What it reports" table names every violation kind', () => {
    assert.deepEqual(kindsOf(tableAfter(README, '### What it reports')), [...VIOLATION_KINDS].sort());
  });

  it('the environment table lists the variables the preload and the off switch read', () => {
    const listed = tableAfter(README, 'Environment variables (').map((row) => names(row[0] ?? '')[0]);
    const source = read('src/options.ts') + read('src/off-switch.ts');
    const readVariables = [...new Set([...source.matchAll(/env\.(HEADER_GUARD(?:_[A-Z_]+)?)\b/g)].map((match) => match[1] as string))];
    assert.deepEqual([...listed].sort(), readVariables.sort());
  });

  it('stays short enough to read in five minutes', () => {
    assert.ok(README.split('\n').length <= 350, `${README.split('\n').length} lines`);
  });
});

describe('docs/', () => {
  it('docs/reports.md: the full "What it reports" table names every violation kind', () => {
    assert.deepEqual(kindsOf(tableAfter(read('docs/reports.md'), '## What it reports')), [...VIOLATION_KINDS].sort());
  });

  it('docs/log-contract.md: the log-mode table covers every kind', () => {
    assert.deepEqual(kindsOf(tableAfter(read('docs/log-contract.md'), '## Log mode only observes')), [...VIOLATION_KINDS].sort());
  });

  it('docs/reports.md: the error-code table lists exactly ErrorCodes, each with its value', () => {
    const rows = tableAfter(read('docs/reports.md'), '## Error codes');
    const listed = Object.fromEntries(rows.map((row) => [names(row[0] ?? '')[0], names(row[1] ?? '')[0]]));
    assert.deepEqual(listed, { ...ErrorCodes });
  });
});

describe('links', () => {
  // Pages written on other branches, linked from the README ahead of their merge. Empty this list
  // when they are merged: from then on a link to a missing page fails here.
  const PENDING = new Set<string>();
  const pages = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(ROOT, 'docs')).filter((file) => file.endsWith('.md')).map((file) => `docs/${file}`)];
  for (const page of pages) {
    it(`every relative link of ${page} points at a file that exists`, () => {
      // Outside code blocks: [text](target), without the #fragment; web links are not checked.
      const text = read(page).replace(/```[\s\S]*?```/g, '');
      const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => (match[1] as string).split('#')[0] as string).filter((target) => target !== '' && !/^[a-z]+:/.test(target));
      const missing = targets.filter((target) => !existsSync(join(ROOT, dirname(page), target)) && !PENDING.has(join(dirname(page), target)));
      assert.deepEqual(missing, [], page);
    });
  }
});

describe('docs/api.md', () => {
  // Entries that only load inside their runner (node:test prints TAP, jest and vitest's ESM entry
  // import the runner): test/runners.test.ts runs them there.
  const RUNNER_ONLY = new Set(['header-guard/node-test', 'header-guard/jest', 'header-guard/vitest']);
  /** The entry a row names: its first cell's backticked text. */
  const entryOf = (row: string[]) => /`([^`]+)`/.exec(row[0] ?? '')?.[1];
  const rows = tableAfter(read('docs/api.md'), '# Entry points and their exports');

  it('lists every entry point of package.json', () => {
    const entries = Object.keys((JSON.parse(read('package.json')) as { exports: Record<string, unknown> }).exports)
      .filter((entry) => entry !== './package.json')
      .map((entry) => (entry === '.' ? 'header-guard' : `header-guard/${entry.slice(2)}`));
    assert.deepEqual(rows.map((row) => entryOf(row)).sort(), entries.sort());
  });

  it('lists exactly what each entry exports, from require and import alike, and its default', () => {
    const checked = rows.filter((row) => !RUNNER_ONLY.has(entryOf(row) ?? ''));
    // Loaded in a child process: the preload installs itself in whatever process loads it.
    const script = `const entries = ${JSON.stringify(checked.map((row) => entryOf(row)))};
      const out = {};
      for (const entry of entries) {
        const cjs = require(entry);
        const esm = await import(entry);
        out[entry] = { cjs: Object.keys(cjs).sort(), esm: Object.keys(esm).sort(), defaultOf: Object.keys(esm).filter((key) => key !== 'default' && esm[key] === esm.default) };
      }
      console.log(JSON.stringify(out));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(join(ROOT, 'package.json'))}); ${script}`], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
    assert.equal(child.status, 0, child.stderr);
    const actual = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, { cjs: string[]; esm: string[]; defaultOf: string[] }>;
    for (const row of checked) {
      const entry = entryOf(row) as string;
      const named = names(row[2] ?? '').sort();
      const documentedDefault = names(row[3] ?? '');
      const got = actual[entry];
      assert.ok(got, entry);
      assert.deepEqual(got.esm.filter((key) => key !== 'default'), named, `${entry}: named exports (import)`);
      assert.deepEqual(got.cjs.filter((key) => key !== 'default'), named, `${entry}: named exports (require)`);
      assert.equal(got.esm.includes('default'), documentedDefault.length > 0, `${entry}: default export`);
      if (documentedDefault.length > 0) assert.ok(got.defaultOf.includes(documentedDefault[0] as string), `${entry}: the default is ${documentedDefault[0]}`);
    }
  });
});
