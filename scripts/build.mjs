// Build: TypeScript to CommonJS + declarations in dist/, then a thin ESM wrapper per entry
// (index.mjs + index.d.mts) that re-exports the CommonJS build, so ESM and CommonJS users share
// one copy of the guard's state (no dual-package hazard).
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);

/**
 * Entries: file name in src/, which named export is also the default export (if any), and `esm`:
 * lines the ESM entry runs after importing the CommonJS build as `cjs` (vitest's hooks can only be
 * imported, never required); `names`: its exports, for entries that must not be loaded here (they
 * register test hooks when loaded).
 */
const ENTRIES = [
  { name: 'index', defaultExport: 'headerGuard' },
  { name: 'register' },
  { name: 'testing' },
  { name: 'adapters/fastify', defaultExport: 'headerGuardPlugin' },
  { name: 'adapters/koa', defaultExport: 'koaHeaderGuard' },
  { name: 'adapters/nest', defaultExport: 'HeaderGuardInterceptor' },
  { name: 'adapters/outgoing', defaultExport: 'guardOutgoingRequests' },
  { name: 'runners/node-test', names: [] },
  { name: 'runners/mocha', names: ['mochaHooks'] },
  { name: 'runners/jest', names: [] },
  {
    name: 'runners/vitest',
    names: [],
    esm: ["import { afterAll, afterEach, beforeEach } from 'vitest';", 'cjs.registerVitestHooks({ beforeEach, afterEach, afterAll });'],
  },
];

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

for (const { name, defaultExport, esm, names: given } of ENTRIES) {
  const file = basename(name);
  const names = given ?? Object.keys(require(join(dist, `${name}.js`))).filter((key) => key !== 'default' && key !== '__esModule');
  // createRequire, not `import cjs from`: Bun reads a default import of a CommonJS module that sets
  // __esModule as its `default` export, which this build has not; every runtime agrees on require.
  const js = names.length > 0 || defaultExport || esm
    ? ["import { createRequire } from 'node:module';", `const cjs = createRequire(import.meta.url)('./${file}.js');`]
    : [`import './${file}.js';`];
  if (names.length > 0) js.push(`export const { ${names.join(', ')} } = cjs;`);
  if (defaultExport) js.push(`export default cjs.${defaultExport};`);
  if (esm) js.unshift(esm[0]), js.push(...esm.slice(1));
  writeFileSync(join(dist, `${name}.mjs`), `${js.join('\n')}\n`);
  const dts = [names.length > 0 ? `export * from './${file}.js';` : 'export {};'];
  if (defaultExport) dts.unshift(`import { ${defaultExport} } from './${file}.js';`), dts.push(`export default ${defaultExport};`);
  writeFileSync(join(dist, `${name}.d.mts`), `${dts.join('\n')}\n`);
}
console.log(`built ${ENTRIES.map((entry) => entry.name).join(', ')} into dist/`);
