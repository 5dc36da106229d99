// Build: TypeScript to CommonJS + declarations in dist/, then a thin ESM wrapper per entry
// (index.mjs + index.d.mts) that re-exports the CommonJS build, so ESM and CommonJS users share
// one copy of the guard's state (no dual-package hazard). The wrappers are static re-exports
// (`export { a, b } from './index.js'`): Node finds a CommonJS module's named exports with its
// cjs-module-lexer, and bundlers (esbuild, webpack, Rollup, Vite) can follow them, which they
// cannot do with `createRequire(import.meta.url)('./index.js')`.
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
 * lines the ESM entry runs instead of a bare import of the CommonJS build (vitest's hooks can only
 * be imported, never required); `names`: its exports, for entries that must not be loaded here
 * (they register test hooks when loaded).
 */
const ENTRIES = [
  { name: 'index', defaultExport: 'headerGuard' },
  { name: 'register' },
  { name: 'testing' },
  { name: 'adapters/fastify', defaultExport: 'headerGuardPlugin' },
  { name: 'adapters/koa', defaultExport: 'koaHeaderGuard' },
  { name: 'adapters/nest', defaultExport: 'HeaderGuardInterceptor' },
  { name: 'adapters/outgoing', defaultExport: 'guardOutgoingRequests' },
  { name: 'next', defaultExport: 'guardNext' },
  { name: 'eslint/index', defaultExport: 'plugin' },
  { name: 'runners/node-test', names: [] },
  { name: 'runners/mocha', names: ['mochaHooks'] },
  { name: 'runners/jest', names: [] },
  {
    name: 'runners/vitest',
    names: [],
    esm: [
      "import { afterAll, afterEach, beforeEach } from 'vitest';",
      "import { registerVitestHooks } from './vitest.js';",
      'registerVitestHooks({ beforeEach, afterEach, afterAll });',
    ],
  },
];

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

for (const { name, defaultExport, esm, names: given } of ENTRIES) {
  const file = basename(name);
  const names = given ?? Object.keys(require(join(dist, `${name}.js`))).filter((key) => key !== 'default' && key !== '__esModule');
  // Named re-exports, never `import cjs from` and `export default cjs.x`: Bun reads a default
  // import of a CommonJS module that sets __esModule as its `default` export, which this build has
  // not; every runtime and bundler agrees on named imports of it.
  const js = [];
  if (names.length > 0) js.push(`export { ${names.join(', ')} } from './${file}.js';`);
  if (defaultExport) js.push(`export { ${defaultExport} as default } from './${file}.js';`);
  if (esm) js.push(...esm);
  if (js.length === 0) js.push(`import './${file}.js';`);
  writeFileSync(join(dist, `${name}.mjs`), `${js.join('\n')}\n`);
  const dts = [names.length > 0 ? `export * from './${file}.js';` : 'export {};'];
  if (defaultExport) dts.unshift(`import { ${defaultExport} } from './${file}.js';`), dts.push(`export default ${defaultExport};`);
  writeFileSync(join(dist, `${name}.d.mts`), `${dts.join('\n')}\n`);
}
console.log(`built ${ENTRIES.map((entry) => entry.name).join(', ')} into dist/`);
