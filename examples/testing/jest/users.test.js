// A second file of clean tests: it runs, and passes.
const request = require('supertest');
const { createApp } = require('../app.js');

describe('users', () => {
  test('GET /users/12 answers the user', async () => {
    await request(createApp()).get('/users/12').expect(200, { id: 12 });
  });
});
