// NestJS (Express platform) with the testing module and supertest, under header-guard/node-test:
// one buggy test among clean ones. The receipt test's assertion holds (the client gets the
// receipt), yet the handler threw after answering and the exception filter answered again: that
// test fails, naming both sites; the others pass.
//   cd examples/testing/nestjs && node --import tsx --import header-guard/node-test --test test/*.test.mts
import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../src/app.module.mjs';

describe('orders (NestJS)', () => {
  let app: INestApplication;

  before(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  after(() => app.close());

  it('GET /orders/7 answers the order', async () => {
    await request(app.getHttpServer()).get('/orders/7').expect(200, { id: 7 });
  });

  it('GET /orders/7/receipt answers the receipt', async () => {
    await request(app.getHttpServer()).get('/orders/7/receipt').expect(200, { id: 7, total: 42 });
  });

  it('POST /orders answers 201', async () => {
    await request(app.getHttpServer()).post('/orders').expect(201, { created: true });
  });
});
