// e2e (testing module + supertest) under header-guard: each classic bug answers the client, and
// the guard reports it naming the app's own .ts lines at both ends (the late call, or the
// controller method when Nest made the late call itself, and the first send). Each report is
// printed as well, so that the run shows them.
//   cd examples/nestjs && node --enable-source-maps --import tsx --test test/orders.e2e.test.mts
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import headerGuard, { type Violation } from 'header-guard';
import { AppModule } from '../src/app.module.mjs';

const CONTROLLER = 'src/orders.controller.mts';
const source = readFileSync(new URL(`../${CONTROLLER}`, import.meta.url), 'utf8').split('\n');
/** The line of the controller that holds `text`. */
const line = (text: string, file = source): number => file.findIndex((l) => l.includes(text)) + 1;

describe('orders (NestJS) under header-guard', () => {
  let app: INestApplication;
  let violations: Violation[] = [];

  before(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    // Each report is kept for the assertions and printed, as the guard's default logger would.
    app.use(headerGuard({
      onViolation: (violation) => {
        violations.push(violation);
        console.log(`${violation.message}\n`);
      },
    }));
    await app.init();
  });
  beforeEach(() => {
    violations = [];
  });
  after(() => app.close());

  /** Wait for the reports Nest's late answer makes after the client already has its response. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

  it('1. response injected + returned value: Nest sends the value too', async () => {
    await request(app.getHttpServer()).get('/orders/7/summary').expect(200, { id: 7, summary: true });
    await settle();
    const [report] = violations;
    assert.equal(violations.length, 1, violations.map((v) => v.message).join('\n'));
    assert.equal(report?.kind, 'double-send');
    assert.equal(report?.firstSent?.file.endsWith(CONTROLLER), true);
    assert.equal(report?.firstSent?.line, line('res.json({ id: Number(id), summary: true })'));
    assert.match(report?.message ?? '', new RegExp(`handled by OrdersController\\.summary \\(${CONTROLLER}:${line('summary(@Param')}\\)`));
    assert.match(report?.message ?? '', /Nest sent OrdersController\.summary's return value after the response had been answered/);
  });

  it('2. @Res({ passthrough: true }) + res.json(): the controller method and its res.json()', async () => {
    await request(app.getHttpServer()).get('/orders/7').expect(200, { id: 7 });
    await settle();
    const [report] = violations;
    assert.equal(violations.length, 1, violations.map((v) => v.message).join('\n'));
    assert.equal(report?.kind, 'double-send');
    assert.equal(report?.firstSent?.line, line('res.json({ id: Number(id) });'));
    assert.match(report?.message ?? '', new RegExp(`handled by OrdersController\\.findOne \\(${CONTROLLER}:${line('findOne(@Param')}\\)`));
  });

  it("3. an interceptor answers early: its line, and the controller method Nest answered for", async () => {
    await request(app.getHttpServer()).get('/orders/7/secret').expect(401, { error: 'missing API key' });
    await settle();
    const [report] = violations;
    assert.equal(violations.length, 1, violations.map((v) => v.message).join('\n'));
    const interceptor = readFileSync(new URL('../src/early.interceptor.mts', import.meta.url), 'utf8').split('\n');
    assert.equal(report?.firstSent?.file.endsWith('src/early.interceptor.mts'), true);
    assert.equal(report?.firstSent?.line, line('.status(401)', interceptor));
    assert.match(report?.message ?? '', new RegExp(`handled by OrdersController\\.secret \\(${CONTROLLER}:${line('secret(@Param')}\\)`));
  });

  it('4. an exception after the CSV stream began, answered by a filter: the throw, the filter and the first write', async () => {
    const res = await request(app.getHttpServer()).get('/orders/export/csv');
    assert.equal(res.status, 200);
    await settle();
    const kinds = violations.map((v) => v.kind);
    // The filter's res.status(500).json(...) is one statement: one report, a double send that
    // also names the late status the client never saw.
    assert.deepEqual(kinds, ['error-after-send', 'double-send'], violations.map((v) => v.message).join('\n'));
    const filter = readFileSync(new URL('../src/export.filter.mts', import.meta.url), 'utf8').split('\n');
    const [thrown, send] = violations;
    assert.equal(thrown?.offendingStack[0]?.line, line('throw new Error(`no total'));
    const status = send?.kind === 'double-send' ? send.chained?.[0] : undefined;
    assert.equal(status?.kind, 'late-status');
    assert.equal(status?.offending.file.endsWith('src/export.filter.mts'), true);
    assert.equal(status?.offending.line, line('res.status(500)', filter));
    for (const report of violations) {
      assert.equal(report.firstSent?.line, line("res.write('id,total\\n')"), report.message);
      assert.match(report.message, /handled by OrdersController\.exportCsv/);
    }
  });

  it('5. a @Res() handler that answers and then throws: error-after-send with the throw and the send', async () => {
    await request(app.getHttpServer()).get('/orders/7/receipt').expect(200, { id: 7, total: 42 });
    await settle();
    const [report] = violations;
    assert.equal(violations.length, 1, violations.map((v) => v.message).join('\n'));
    assert.equal(report?.kind, 'error-after-send');
    assert.equal(report?.offendingStack[0]?.line, line('throw new Error(`audit log'));
    assert.equal(report?.firstSent?.line, line('res.json({ id: Number(id), total: 42 })'));
  });
});
