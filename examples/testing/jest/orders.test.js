// jest with header-guard/jest: one buggy test among clean ones. Each assertion holds (the client
// gets 201), yet POST /orders calls next() after answering: that test fails, naming both sites;
// the others pass.
//   npx jest --config examples/testing/jest/jest.config.js
const request = require('supertest');
const { createApp } = require('../app.js');

test('GET /health answers ok', async () => {
  await request(createApp()).get('/health').expect(200, 'ok');
});

test('POST /orders answers 201', async () => {
  await request(createApp()).post('/orders').expect(201);
});

test('GET /users/7 answers the user', async () => {
  await request(createApp()).get('/users/7').expect(200, { id: 7 });
});
