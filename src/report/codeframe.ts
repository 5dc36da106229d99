import { readFileSync, statSync } from 'node:fs';
import type { CallSite } from '../types.js';

/** Source files larger than this are not read for a code frame. */
const MAX_SOURCE_BYTES = 2 * 1024 * 1024;
/** Longest source line shown; longer ones are cut around the column. */
const MAX_LINE_WIDTH = 120;

/**
 * The source line of a call site with a caret under its column, as two lines:
 * `    > 16 |   res.json(user);` and `         |       ^`. Read only when a report is written;
 * empty when the file cannot be read (eval code, a deleted file, a huge one). Internal.
 */
export function codeFrame(site: CallSite, indent: string): string[] {
  let text: string;
  try {
    if (statSync(site.file).size > MAX_SOURCE_BYTES) return [];
    text = readFileSync(site.file, 'utf8');
  } catch {
    return [];
  }
  const source = text.split(/\r?\n/)[site.line - 1];
  if (source === undefined) return [];
  let line = source.replace(/\t/g, ' ');
  let column = Math.max(1, site.column);
  if (line.length > MAX_LINE_WIDTH) {
    const start = Math.max(0, Math.min(column - 1 - MAX_LINE_WIDTH / 2, line.length - MAX_LINE_WIDTH));
    line = line.slice(start, start + MAX_LINE_WIDTH);
    column -= start;
  }
  const number = String(site.line);
  return [`${indent}> ${number} | ${line}`, `${indent}  ${' '.repeat(number.length)} | ${' '.repeat(column - 1)}^`];
}

/**
 * Whether to colour text written to this stream: never with NO_COLOR, always with FORCE_COLOR
 * (other than 0), otherwise only on a TTY. Internal.
 */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stream.isTTY === true;
}

/** ANSI colours for a report on a terminal: the headline, the labels and the carets. Internal. */
export function colorize(report: string): string {
  return report
    .split('\n')
    .map((line, index) => {
      if (index === 0) return `\u001b[1;31m${line}\u001b[0m`;
      if (/^\s+\| *\^$/.test(line)) return line.replace('^', '\u001b[1;31m^\u001b[0m');
      if (/^\s+> \d+ \|/.test(line)) return `\u001b[2m${line}\u001b[0m`;
      if (/^  \S/.test(line)) return `\u001b[1m${line}\u001b[0m`;
      return line;
    })
    .join('\n');
}
