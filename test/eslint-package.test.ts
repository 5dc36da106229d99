// header-guard/eslint as users load it: the built entry through require and import (default
// export = the plugin, named exports, no ESLint loaded by the plugin itself), and ESLint 10 and 9
// (`eslint9` alias) linting examples/eslint with its eslint.config.mjs: every classic bug in
// bugs.js reported with both lines, nothing in fixed.js; the same rule under oxlint's JS plugins.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'eslint');

/** Run a Node script from the repository root; its stdout. */
function node(args: string[]): string {
  const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, `${child.stdout}\n${child.stderr}`);
  return child.stdout;
}

/** The reports bugs.js must get: late line, kind, the line of the first answer. */
const EXPECTED = [
  [13, 'double-send', 11],
  [21, 'double-send', 19],
  [28, 'double-send', 28],
  [40, 'double-send', 38],
  [47, 'late-header', 46],
  [55, 'next-after-send', 53],
  [65, 'double-send', 64],
] as const;

/** Lint examples/eslint with the ESLint package `eslintPackage` ('eslint' or 'eslint9'); the messages per file, as JSON. */
function lintExample(eslintPackage: string): Record<string, { line: number; message: string; ruleId: string | null }[]> {
  const script = `
const { ESLint } = require(${JSON.stringify(eslintPackage)});
(async () => {
  const eslint = new ESLint({ cwd: ${JSON.stringify(EXAMPLE)}, overrideConfigFile: ${JSON.stringify(join(EXAMPLE, 'eslint.config.mjs'))} });
  const results = await eslint.lintFiles(['bugs.js', 'fixed.js']);
  const out = {};
  for (const r of results) out[require('node:path').basename(r.filePath)] = r.messages.map(({ line, message, ruleId }) => ({ line, message, ruleId }));
  process.stdout.write(JSON.stringify(out));
})().catch((err) => { console.error(err); process.exit(1); });`;
  return JSON.parse(node(['-e', script])) as Record<string, { line: number; message: string; ruleId: string | null }[]>;
}

describe('header-guard/eslint, built', () => {
  it('loads through require: the plugin, its rules and configs, and no ESLint', () => {
    const out = node([
      '-e',
      `const mod = require('header-guard/eslint');
const loadedEslint = Object.keys(require.cache).some((file) => /node_modules[\\\\/]eslint/.test(file));
console.log(JSON.stringify({ keys: Object.keys(mod).sort(), same: mod.default === mod.plugin, rule: typeof mod.rules['no-late-response'].create, recommended: { name: mod.configs.recommended.name, rules: mod.configs.recommended.rules }, pluginIn: mod.configs.recommended.plugins['header-guard'] === mod.plugin, name: mod.meta.name, loadedEslint }));`,
    ]);
    const facts = JSON.parse(out) as { keys: string[]; same: boolean; rule: string; recommended: { name: string; rules: Record<string, string> }; pluginIn: boolean; name: string; loadedEslint: boolean };
    assert.deepEqual(facts.keys, ['configs', 'default', 'meta', 'plugin', 'rules']);
    assert.equal(facts.same, true);
    assert.equal(facts.rule, 'function');
    assert.equal(facts.recommended.name, 'header-guard/recommended');
    assert.deepEqual(facts.recommended.rules, { 'header-guard/no-late-response': 'error' });
    assert.equal(facts.pluginIn, true);
    assert.equal(facts.name, 'header-guard/eslint');
    assert.equal(facts.loadedEslint, false);
  });

  it('loads through import: the default export is the plugin, the named exports are the same objects', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import plugin, { rules, configs, meta, plugin as named } from 'header-guard/eslint';
console.log(JSON.stringify({ same: plugin === named, rules: rules === plugin.rules, configs: configs === plugin.configs, meta: meta === plugin.meta }));`,
    ]);
    assert.deepEqual(JSON.parse(out), { same: true, rules: true, configs: true, meta: true });
  });

  for (const eslintPackage of ['eslint', 'eslint9']) {
    it(`${eslintPackage === 'eslint' ? 'ESLint 10' : 'ESLint 9'} with configs.recommended reports every bug of examples/eslint/bugs.js with both lines, and nothing in fixed.js`, () => {
      const results = lintExample(eslintPackage);
      assert.deepEqual(results['fixed.js'], []);
      const bugs = results['bugs.js'] ?? [];
      assert.equal(bugs.length, EXPECTED.length, JSON.stringify(bugs, null, 2));
      EXPECTED.forEach(([line, kind, firstLine], index) => {
        const report = bugs[index];
        assert.equal(report?.ruleId, 'header-guard/no-late-response');
        assert.equal(report?.line, line);
        assert.match(report?.message ?? '', new RegExp(`on line ${line} can run after .* on line ${firstLine} .*\\(${kind}\\)`));
      });
    });
  }

  it('runs under oxlint as a JS plugin (examples/eslint/.oxlintrc.json): the same reports', () => {
    const child = spawnSync(join(ROOT, 'node_modules', '.bin', 'oxlint'), ['-c', '.oxlintrc.json', '--format', 'json', 'bugs.js', 'fixed.js'], { cwd: EXAMPLE, encoding: 'utf8', timeout: 60_000 });
    const { diagnostics } = JSON.parse(child.stdout) as { diagnostics: { message: string; code: string; filename: string; labels: { span: { line: number } }[] }[] };
    const ours = diagnostics.filter((d) => d.code === 'header-guard(no-late-response)');
    assert.equal(ours.filter((d) => d.filename === 'fixed.js').length, 0);
    const lines = ours.filter((d) => d.filename === 'bugs.js').map((d) => [d.labels[0]?.span.line, d.message] as const).sort(([a], [b]) => (a ?? 0) - (b ?? 0));
    assert.equal(lines.length, EXPECTED.length, child.stdout + child.stderr);
    EXPECTED.forEach(([line, kind, firstLine], index) => {
      assert.equal(lines[index]?.[0], line);
      assert.match(lines[index]?.[1] ?? '', new RegExp(`on line ${line} can run after .* on line ${firstLine} .*\\(${kind}\\)`));
    });
  });
});
