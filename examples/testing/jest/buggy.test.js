// Passes without header-guard; fails under it, naming both call sites of each bug.
const request = require('supertest');
const { createApp } = require('../app.js');

test('POST /orders answers 201', async () => {
  await request(createApp()).post('/orders').expect(201);
});

test('GET /health answers ok', async () => {
  await request(createApp()).get('/health').expect(200, 'ok');
});
