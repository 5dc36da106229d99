// A second file of clean tests: it runs, and passes.
import request from 'supertest';
import { expect, test } from 'vitest';
import app from '../app.js';

test('GET /users/12 answers the user', async () => {
  const response = await request(app.createApp()).get('/users/12');
  expect(response.body).toEqual({ id: 12 });
});
