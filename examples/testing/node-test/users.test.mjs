// The same entry with an ESM test file: clean tests, which pass.
import { test } from 'node:test';
import request from 'supertest';
import app from '../app.js';

test('GET /users/12 answers the user', async () => {
  await request(app.createApp()).get('/users/12').expect(200, { id: 12 });
});

test('GET /health answers ok (ESM)', async () => {
  await request(app.createApp()).get('/health').expect(200, 'ok');
});
