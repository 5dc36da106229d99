// The published package, as a user gets it: `npm pack`, checked by publint and
// @arethetypeswrong/cli, installed into a fresh project beside Express, then required,
// imported and type-checked from CommonJS, ESM and TypeScript.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const work = mkdtempSync(join(tmpdir(), 'header-guard-package-'));
const consumer = join(work, 'consumer');
let tarball = '';
let koaPulledByExpressInstall = true;
let eslintPulledByExpressInstall = true;

const versionOf = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

function node(args: string[], cwd = consumer) {
  const child = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, `${args.join(' ')}\n${child.stdout}\n${child.stderr}`);
  return child.stdout;
}

describe('the npm package', () => {
  before(() => {
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').at(-1) ?? '';
    tarball = join(work, packed);
    execFileSync('mkdir', ['-p', consumer]);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, `express@${versionOf('express')}`, `@types/express@${versionOf('@types/express')}`, `@types/node@${versionOf('@types/node')}`, `fastify@${versionOf('fastify')}`], { cwd: consumer, encoding: 'utf8', timeout: 180_000 });
    // Koa is an optional peer: an Express (and Fastify) install pulls nothing of it.
    koaPulledByExpressInstall = existsSync(join(consumer, 'node_modules', 'koa'));
    // ESLint too: header-guard/eslint's rules are plain objects that never load it.
    eslintPulledByExpressInstall = existsSync(join(consumer, 'node_modules', 'eslint'));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', `koa@${versionOf('koa')}`, `@types/koa@${versionOf('@types/koa')}`], { cwd: consumer, encoding: 'utf8', timeout: 180_000 });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('holds only the build, the docs pages, the README, the LICENSE and the CHANGELOG', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    for (const file of files) assert.match(file, /^package\/(dist\/.+\.(js|mjs|d\.ts|d\.mts)|docs\/[\w/-]+\.md|README\.md|LICENSE|CHANGELOG\.md|package\.json)$/, file);
    assert.ok(files.includes('package/docs/rules/no-late-response.md'));
    assert.ok(files.includes('package/dist/register.mjs'));
  });

  it('passes publint', () => {
    const out = execFileSync(join(BIN, 'publint'), [tarball], { encoding: 'utf8' });
    assert.match(out, /All good!/, out);
  });

  it('passes @arethetypeswrong/cli', () => {
    const out = execFileSync(join(BIN, 'attw'), [tarball], { encoding: 'utf8', cwd: ROOT });
    assert.match(out, /No problems found/, out);
  });

  const app = (load: string) => `${load}
const app = express();
app.use(headerGuard({ logger: { warn: (m) => reports.push(m) } }));
app.get('/', (req, res) => { res.send('ok'); res.status(500); });
const server = app.listen(0, '127.0.0.1', async () => {
  const r = await fetch('http://127.0.0.1:' + server.address().port + '/');
  await r.text();
  server.close();
  if (reports.length !== 1 || !reports[0].includes('res.status(500)')) { console.error(reports); process.exit(1); }
  console.log('ok', typeof HeaderGuardError, typeof stats, typeof assertNoViolations);
});`;

  it('works from CommonJS', () => {
    writeFileSync(join(consumer, 'cjs.cjs'), app(`const express = require('express');
const { headerGuard, HeaderGuardError, stats } = require('header-guard');
const { assertNoViolations } = require('header-guard/testing');
const reports = [];`));
    assert.equal(node(['cjs.cjs']).trim(), 'ok function function function');
  });

  it('works from ESM, default and named imports alike', () => {
    writeFileSync(join(consumer, 'esm.mjs'), app(`import express from 'express';
import headerGuardDefault, { headerGuard, HeaderGuardError, stats } from 'header-guard';
import { assertNoViolations } from 'header-guard/testing';
if (headerGuardDefault !== headerGuard) throw new Error('default export is not headerGuard');
const reports = [];`));
    assert.equal(node(['esm.mjs']).trim(), 'ok function function function');
  });

  it('header-guard/fastify registers from CommonJS and ESM, and reports a late reply.code()', () => {
    const fastifyApp = (load: string) => `${load}
const reports = [];
const app = Fastify();
app.register(headerGuardPlugin, { logger: { warn: (m) => reports.push(m) } }).after(() => {
  app.get('/', (request, reply) => { reply.send('ok'); reply.code(500); });
});
app.inject('/').then((response) => {
  if (response.statusCode !== 200 || reports.length !== 1 || !reports[0].includes('reply.code(500)')) { console.error(response.statusCode, reports); process.exit(1); }
  console.log('ok');
});`;
    writeFileSync(join(consumer, 'fastify.cjs'), fastifyApp(`const Fastify = require('fastify');
const { headerGuardPlugin } = require('header-guard/fastify');`));
    writeFileSync(join(consumer, 'fastify.mjs'), fastifyApp(`import Fastify from 'fastify';
import headerGuardPlugin, { headerGuardPlugin as named } from 'header-guard/fastify';
if (named !== headerGuardPlugin) throw new Error('default export is not headerGuardPlugin');`));
    assert.equal(node(['fastify.cjs']).trim(), 'ok');
    assert.equal(node(['fastify.mjs']).trim(), 'ok');
  });

  it('has header-guard/koa from CommonJS and ESM, and an Express install pulls no Koa', () => {
    assert.equal(koaPulledByExpressInstall, false);
    const koaApp = (load: string) => `${load}
const reports = [];
const app = new Koa();
app.use(koaHeaderGuard({ logger: { warn: (m) => reports.push(m) } }));
app.use((ctx) => { ctx.body = 'ok'; setTimeout(() => { ctx.status = 500; }, 5); });
const server = app.listen(0, '127.0.0.1', async () => {
  await (await fetch('http://127.0.0.1:' + server.address().port + '/')).text();
  await new Promise((resolve) => setTimeout(resolve, 30));
  server.close();
  if (reports.length !== 1 || !reports[0].includes('ctx.status = 500')) { console.error(reports); process.exit(1); }
  console.log('ok');
});`;
    writeFileSync(join(consumer, 'koa.cjs'), koaApp("const Koa = require('koa');\nconst { koaHeaderGuard } = require('header-guard/koa');"));
    writeFileSync(join(consumer, 'koa.mjs'), koaApp("import Koa from 'koa';\nimport koaHeaderGuard, { koaHeaderGuard as named } from 'header-guard/koa';\nif (named !== koaHeaderGuard) throw new Error('default export is not koaHeaderGuard');"));
    assert.equal(node(['koa.cjs']).trim(), 'ok');
    assert.equal(node(['koa.mjs']).trim(), 'ok');
  });

  it('has header-guard/eslint from CommonJS and ESM (the plugin, its recommended config), and an Express install pulls no ESLint', () => {
    assert.equal(eslintPulledByExpressInstall, false);
    // The rule's docs link is a file URL to its page, shipped in the package.
    const check = "if (typeof plugin.rules['no-late-response'].create !== 'function' || plugin.configs.recommended.plugins['header-guard'] !== plugin) process.exit(1);\n" +
      "const page = require('node:url').fileURLToPath(plugin.rules['no-late-response'].meta.docs.url);\n" +
      "if (!page.includes('node_modules') || !require('node:fs').readFileSync(page, 'utf8').startsWith('# ')) process.exit(2);\nconsole.log('ok');";
    writeFileSync(join(consumer, 'eslint-plugin.cjs'), `const plugin = require('header-guard/eslint').default;\n${check}`);
    writeFileSync(join(consumer, 'eslint-plugin.mjs'), `import plugin from 'header-guard/eslint';\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${check}`);
    assert.equal(node(['eslint-plugin.cjs']).trim(), 'ok');
    assert.equal(node(['eslint-plugin.mjs']).trim(), 'ok');
  });

  it('preloads with --require and --import', () => {
    const script = "require('http').createServer((q, s) => { s.end('x'); try { s.setHeader('a', 'b'); console.log('not guarded'); } catch (e) { console.log(e.name); } process.exit(0); }).listen(0, '127.0.0.1', function () { require('http').get('http://127.0.0.1:' + this.address().port); });";
    writeFileSync(join(consumer, 'server.cjs'), script);
    assert.equal(node(['--require', 'header-guard/register', 'server.cjs']).trim(), 'HeaderGuardError');
    assert.equal(node(['--import', 'header-guard/register', 'server.cjs']).trim(), 'HeaderGuardError');
  });

  it('builds its API docs with typedoc, warnings as errors (npm run docs)', () => {
    execFileSync(join(BIN, 'typedoc'), ['--out', join(work, 'api')], { cwd: ROOT, encoding: 'utf8' });
    assert.match(readFileSync(join(work, 'api', 'index.html'), 'utf8'), /header-guard/);
  });

  it('type-checks a TypeScript consumer, CommonJS and ESM, against the published types', () => {
    const source = `import express from 'express';
import headerGuard, { HeaderGuardError, VIOLATION_KINDS, stats, formatCallSite, type Violation, type HeaderGuardOptions, type CallSite } from 'header-guard';
import { assertNoViolations, expectViolation, getViolations } from 'header-guard/testing';
import 'header-guard/register';
import Fastify from 'fastify';
import headerGuardPlugin, { type HeaderGuardFastifyOptions } from 'header-guard/fastify';

const fastifyOptions: HeaderGuardFastifyOptions = { mode: 'throw', onViolation: (violation, req, res) => console.log(violation.kind, req.url, res.statusCode) };
void Fastify().register(headerGuardPlugin, fastifyOptions);
// @ts-expect-error: mode is 'log' or 'throw'
void Fastify().register(headerGuardPlugin, { mode: 'strict' });
import { koaHeaderGuard, type KoaHeaderGuardMiddleware } from 'header-guard/koa';

const options: HeaderGuardOptions = {
  mode: 'log',
  capture: 'adaptive',
  onViolation: (violation: Violation, req, res) => {
    const site: CallSite | undefined = 'offending' in violation ? violation.offending : undefined;
    if (site) console.log(formatCallSite(site), req.method, res.statusCode);
    if (violation.kind === 'double-send') console.log(violation.offending.file);
    // @ts-expect-error: a hang has no late call
    if (violation.kind === 'hang') console.log(violation.offending);
  },
};
const app = express();
app.use(headerGuard(options));
app.use(headerGuard({ contain: true, onViolation: (violation, req, res) => console.log(req.originalUrl, res.locals, VIOLATION_KINDS.length) }));
const error: HeaderGuardError | undefined = undefined;
const kind: Violation['kind'] = expectViolation('late-status').kind;
const count: number = stats().total + getViolations().length;
assertNoViolations();
const koaGuard: KoaHeaderGuardMiddleware = koaHeaderGuard({ mode: 'throw' });
// @ts-expect-error: mode is 'log' or 'throw'
headerGuard({ mode: 'strict' });
export { error, kind, count, koaGuard };
`;
    writeFileSync(join(consumer, 'consumer.cts'), source);
    writeFileSync(join(consumer, 'consumer.mts'), source);
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, esModuleInterop: true, skipLibCheck: false, types: ['node'] },
      files: ['consumer.cts', 'consumer.mts'],
    }));
    node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  });

  it("type-checks koaHeaderGuard() in Koa's own app.use() (@types/koa needs skipLibCheck: its d.ts fails on content-disposition's)", () => {
    const source = `import Koa from 'koa';
import { koaHeaderGuard } from 'header-guard/koa';
const app = new Koa<{ user?: string }>();
app.use(koaHeaderGuard({ onViolation: (violation, req, res) => console.log(violation.kind, req.url, res.statusCode) }));
app.use((ctx) => { ctx.body = ctx.state.user ?? 'ok'; });
export { app };
`;
    writeFileSync(join(consumer, 'koa-consumer.cts'), source);
    writeFileSync(join(consumer, 'koa-consumer.mts'), source);
    writeFileSync(join(consumer, 'tsconfig.koa.json'), JSON.stringify({
      compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, esModuleInterop: true, skipLibCheck: true, types: ['node'] },
      files: ['koa-consumer.cts', 'koa-consumer.mts'],
    }));
    node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.koa.json']);
  });
});
