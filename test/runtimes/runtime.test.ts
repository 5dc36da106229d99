// src/runtime.ts: which runtimes the guard refuses, and the refusal printed once per process.
// The real Bun and Deno are exercised in bun-deno.test.ts; here the decision itself, on this
// Node and on described runtimes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { currentFacts, refuseUnsupportedRuntime, unsupportedRuntime, UNSUPPORTED_RUNTIME_WARNING, type RuntimeFacts } from '../../src/runtime.js';

const ROOT = join(__dirname, '..', '..');
const node = currentFacts();
const bun: RuntimeFacts = { ...node, versions: { ...node.versions, bun: '1.4.5' } };

describe('unsupportedRuntime()', () => {
  it('supports this Node', () => {
    assert.equal(unsupportedRuntime(), undefined);
    assert.equal(refuseUnsupportedRuntime(), false);
  });

  it('supports Deno, which reports itself as Node with a deno version', () => {
    assert.equal(unsupportedRuntime({ ...node, versions: { ...node.versions, deno: '2.9.6' } }), undefined);
  });

  it('refuses Bun, naming its version and both reasons', () => {
    const reason = unsupportedRuntime(bun);
    assert.ok(reason !== undefined);
    assert.match(reason, /does not support Bun \(1\.4\.5\)/);
    assert.match(reason, /'http\.server\.request\.start'/);
    assert.match(reason, /tail position/);
  });

  it('refuses a runtime without Error.captureStackTrace or diagnostics_channel', () => {
    assert.match(unsupportedRuntime({ ...node, captureStackTrace: undefined }) ?? '', /needs Error\.captureStackTrace/);
    assert.match(unsupportedRuntime({ ...node, channel: undefined }) ?? '', /needs node:diagnostics_channel/);
  });
});

describe('refuseUnsupportedRuntime()', () => {
  // A child process: the warning is printed once per process, so each case needs a fresh one.
  const child = (script: string) => spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  const BUN_FACTS = "const runtime = require('./src/runtime.ts'); const facts = runtime.currentFacts(); const bun = { ...facts, versions: { ...facts.versions, bun: '1.4.5' } };";

  it('prints the reason once, as a process warning with its code, however often it is asked', () => {
    const result = child(`${BUN_FACTS} console.log([runtime.refuseUnsupportedRuntime(bun), runtime.refuseUnsupportedRuntime(bun), runtime.refuseUnsupportedRuntime(bun)].join());`);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'true,true,true');
    assert.equal(result.stderr.split(`[${UNSUPPORTED_RUNTIME_WARNING}]`).length - 1, 1, result.stderr);
    assert.match(result.stderr, /does not support Bun \(1\.4\.5\).*header-guard is off: every response passes through untouched and nothing is reported\./);
  });

  it('prints nothing where the runtime is supported', () => {
    const result = child(`${BUN_FACTS} console.log(runtime.refuseUnsupportedRuntime());`);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'false');
    assert.equal(result.stderr, '');
  });
});
