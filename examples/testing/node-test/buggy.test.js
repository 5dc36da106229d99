// These assertions hold (the client gets 400 and 201), yet each route has a late call. Under
// the preload in throw mode, the run fails and names both call sites:
//   node --require header-guard/register --test examples/testing/node-test/buggy.test.js
const { test } = require('node:test');
const request = require('supertest');
const { createApp } = require('../app.js');

test('GET /users/abc answers 400', async () => {
  await request(createApp()).get('/users/abc').expect(400);
});

test('POST /orders answers 201', async () => {
  await request(createApp()).post('/orders').expect(201);
});
