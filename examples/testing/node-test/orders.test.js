// node:test with header-guard/node-test: one buggy test among clean ones. Each assertion holds
// (the client gets 201), yet POST /orders calls next() after answering: that test fails, naming
// both sites; the others pass.
//   node --test --import header-guard/node-test examples/testing/node-test/
const { test } = require('node:test');
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
