// mocha with supertest on the correct routes: passes under the preload.
const request = require('supertest');
const { createApp } = require('../app.js');

describe('correct routes', () => {
  it('GET /health answers ok', async () => {
    await request(createApp()).get('/health').expect(200, 'ok');
  });

  it('GET /users/7 answers the user', async () => {
    await request(createApp()).get('/users/7').expect(200, { id: 7 });
  });
});
