// A second file of clean tests: it runs, and passes, after the failure in users.spec.js.
const request = require('supertest');
const { createApp } = require('../app.js');

describe('health', () => {
  it('GET /health answers ok', async () => {
    await request(createApp()).get('/health').expect(200, 'ok');
  });
});
