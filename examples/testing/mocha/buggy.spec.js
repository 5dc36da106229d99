// mocha with supertest:
//   npx mocha --require header-guard/register examples/testing/mocha/buggy.spec.js   (fails, naming both sites)
//   npx mocha --require header-guard/register examples/testing/mocha/clean.spec.js   (passes)
const request = require('supertest');
const { createApp } = require('../app.js');

describe('buggy routes', () => {
  it('GET /users/abc answers 400', async () => {
    await request(createApp()).get('/users/abc').expect(400);
  });

  it('POST /orders answers 201', async () => {
    await request(createApp()).post('/orders').expect(201);
  });
});
