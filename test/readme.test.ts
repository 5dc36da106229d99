// README statements checked against the code: the options table lists exactly the options the
// guard validates, the kinds table every kind, the preload's variables the ones it reads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VIOLATION_KINDS } from '../src/index.js';
import { KNOWN_OPTIONS } from '../src/options.js';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

/** The rows of the markdown table that follows `heading`, as arrays of cells. */
function tableAfter(heading: string): string[][] {
  const start = README.indexOf(heading);
  assert.ok(start !== -1, `README has ${heading}`);
  const lines = README.slice(start).split('\n');
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

describe('README', () => {
  it('the options table lists exactly the options headerGuard() accepts', () => {
    const listed = tableAfter('### Options').map((row) => names(row[0] ?? '')[0]);
    assert.deepEqual([...listed].sort(), [...KNOWN_OPTIONS].sort());
  });

  it('the "What it reports" table names every violation kind', () => {
    const listed = tableAfter('### What it reports').flatMap((row) => names(row[0] ?? ''));
    assert.deepEqual([...new Set(listed)].sort(), [...VIOLATION_KINDS].sort());
  });

  it('the log-mode table covers every kind', () => {
    const listed = tableAfter('#### Log mode only observes').flatMap((row) => names(row[0] ?? '').concat(row[0]?.includes('lint kinds') ? ['duplicate-header', 'body-on-no-content', 'content-length-mismatch'] : []));
    assert.deepEqual([...new Set(listed)].sort(), [...VIOLATION_KINDS].sort());
  });

  it("the preload's environment table lists the variables it reads", () => {
    const listed = tableAfter('Environment variables read by the preload').map((row) => names(row[0] ?? '')[0]);
    const source = readFileSync(join(__dirname, '..', 'src', 'options.ts'), 'utf8');
    const read = [...new Set([...source.matchAll(/env\.(HEADER_GUARD_[A-Z_]+)/g)].map((match) => match[1] as string))];
    assert.deepEqual([...listed].sort(), read.sort());
  });
});
