// header-guard/testing: collecting, asserting, expecting and resetting violations.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { headerGuard } from '../src/index.js';
import { assertNoViolations, expectViolation, getViolations, resetViolations } from '../src/testing.js';
import { EXPRESS_VERSIONS, requestApp, settle } from './helpers.js';

const [, express] = EXPRESS_VERSIONS[1]!;

/** An app with one late status and one next() after answering, guarded in log mode, logging nowhere. */
function lateApp() {
  const app = express();
  app.use(headerGuard({ logger: { warn: () => undefined } }));
  app.get('/late', (req, res) => {
    res.send('ok');
    res.status(500);
  });
  app.get('/next', (req, res, next) => {
    res.send('ok');
    next();
  });
  app.get('/clean', (req, res) => {
    res.send('ok');
  });
  return app;
}

describe('header-guard/testing', () => {
  beforeEach(resetViolations);

  it('collects every violation of every guard in the process, oldest first', async () => {
    await requestApp(lateApp(), '/late');
    await requestApp(lateApp(), '/next');
    await settle(10);
    assert.deepEqual(getViolations().map((v) => v.kind), ['late-status', 'next-after-send']);
  });

  it('assertNoViolations passes when there are none', async () => {
    await requestApp(lateApp(), '/clean');
    await settle(10);
    assert.doesNotThrow(assertNoViolations);
  });

  it('assertNoViolations throws with every report, then resets', async () => {
    await requestApp(lateApp(), '/late');
    await requestApp(lateApp(), '/next');
    await settle(10);
    assert.throws(assertNoViolations, (error: Error & { code?: string; violations?: unknown[] }) => {
      assert.equal(error.name, 'AssertionError');
      assert.equal(error.code, 'ERR_ASSERTION');
      assert.match(error.message, /^header-guard: 2 violations during this test:/);
      assert.match(error.message, /res\.status\(500\) was called after the response headers were sent/);
      assert.match(error.message, /next\(\) was called after the response was sent/);
      assert.equal(error.violations?.length, 2);
      return true;
    });
    assert.deepEqual(getViolations(), []);
  });

  it('expectViolation takes out the first violation of the kind and returns it', async () => {
    await requestApp(lateApp(), '/late');
    await requestApp(lateApp(), '/next');
    await settle(10);
    assert.equal(expectViolation('next-after-send').call, 'next()');
    assert.equal(expectViolation().kind, 'late-status');
    assert.doesNotThrow(assertNoViolations);
  });

  it('expectViolation fails clearly when the violation is missing', async () => {
    await requestApp(lateApp(), '/late');
    await settle(10);
    assert.throws(() => expectViolation('double-send'), /expected a double-send violation; collected: late-status\./);
    resetViolations();
    assert.throws(() => expectViolation(), /expected a violation; collected: none\./);
  });
});
