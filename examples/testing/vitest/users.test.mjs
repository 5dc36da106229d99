// vitest with header-guard/vitest: one buggy test among clean ones. Each assertion holds (the
// client gets 400), yet GET /users/abc answers twice (a missing `return`): that test fails, naming
// both sites; the others pass.
//   npx vitest run --config examples/testing/vitest/vitest.config.mjs
import request from 'supertest';
import { expect, test } from 'vitest';
import app from '../app.js';

test('GET /health answers ok', async () => {
  const response = await request(app.createApp()).get('/health');
  expect(response.text).toBe('ok');
});

test('GET /users/abc answers 400', async () => {
  const response = await request(app.createApp()).get('/users/abc');
  expect(response.status).toBe(400);
});

test('GET /users/7 answers the user', async () => {
  const response = await request(app.createApp()).get('/users/7');
  expect(response.body).toEqual({ id: 7 });
});
