// Loaded before every test file (`npm test` passes it with --import): many tests run the built
// package (dist/) in child processes, so a dist/ older than src/ would test yesterday's code.
// `npm test` builds first (its pretest step); running a test file by hand after editing src/
// needs `npm run build` too, and this says so instead of letting the tests pass or fail on a
// stale build.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');

/** The newest modification time of the files below `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

let built = 0;
try {
  built = statSync(join(root, 'dist', 'index.js')).mtimeMs;
} catch {
  throw new Error('header-guard tests: dist/ is missing. Run `npm run build` (npm test builds first).');
}
if (newest(join(root, 'src')) > built) {
  throw new Error('header-guard tests: dist/ is older than src/. Run `npm run build` (npm test builds first).');
}
