// mocha with header-guard/mocha: one buggy test among clean ones. Each assertion holds (the client
// gets 400), yet GET /users/abc answers twice (a missing `return`): that test fails, naming both
// sites; the other tests, and the next file, run and pass.
//   npx mocha --config examples/testing/mocha/.mocharc.js
const request = require('supertest');
const { createApp } = require('../app.js');

describe('users', () => {
  it('GET /users/7 answers the user', async () => {
    await request(createApp()).get('/users/7').expect(200, { id: 7 });
  });

  it('GET /users/abc answers 400', async () => {
    await request(createApp()).get('/users/abc').expect(400);
  });

  it('GET /users/12 answers the user', (done) => {
    request(createApp()).get('/users/12').expect(200, { id: 12 }, done);
  });
});
