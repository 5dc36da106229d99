// The same buggy suite as ESM:
//   node --import header-guard/register --test examples/testing/node-test/buggy.test.mjs
import { test } from 'node:test';
import request from 'supertest';
import app from '../app.js';

test('GET /users/abc answers 400', async () => {
  await request(app.createApp()).get('/users/abc').expect(400);
});
