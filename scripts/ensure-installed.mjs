// Run before `npm run demo` on a fresh clone: install the dependencies if they are missing,
// then build, so that `npm run demo` works as the first command after `git clone`.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('node_modules/.package-lock.json')) execSync('npm ci', { stdio: 'inherit' });
execSync('npm run --silent build', { stdio: 'inherit' });
