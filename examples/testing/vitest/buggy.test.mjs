// Passes without header-guard; fails under it, naming both call sites of each bug.
import request from 'supertest';
import { expect, test } from 'vitest';
import app from '../app.js';

test('GET /users/abc answers 400', async () => {
  const response = await request(app.createApp()).get('/users/abc');
  expect(response.status).toBe(400);
});

test('GET /health answers ok', async () => {
  const response = await request(app.createApp()).get('/health');
  expect(response.text).toBe('ok');
});
