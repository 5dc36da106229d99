// Build: TypeScript to CommonJS + declarations in dist/, then a thin ESM wrapper per entry
// (index.mjs + index.d.mts) that re-exports the CommonJS build, so ESM and CommonJS users share
// one copy of the guard's state (no dual-package hazard).
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);

/** Entries: file name in src/, and which named export is also the default export (if any). */
const ENTRIES = [
  { name: 'index', defaultExport: 'headerGuard' },
  { name: 'register' },
  { name: 'testing' },
];

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

for (const { name, defaultExport } of ENTRIES) {
  const names = Object.keys(require(join(dist, `${name}.js`))).filter((key) => key !== 'default' && key !== '__esModule');
  const js = [names.length > 0 || defaultExport ? `import cjs from './${name}.js';` : `import './${name}.js';`];
  if (names.length > 0) js.push(`export const { ${names.join(', ')} } = cjs;`);
  if (defaultExport) js.push(`export default cjs.${defaultExport};`);
  writeFileSync(join(dist, `${name}.mjs`), `${js.join('\n')}\n`);
  const dts = [names.length > 0 ? `export * from './${name}.js';` : 'export {};'];
  if (defaultExport) dts.unshift(`import { ${defaultExport} } from './${name}.js';`), dts.push(`export default ${defaultExport};`);
  writeFileSync(join(dist, `${name}.d.mts`), `${dts.join('\n')}\n`);
}
console.log(`built ${ENTRIES.map((entry) => entry.name).join(', ')} into dist/`);
