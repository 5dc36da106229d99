// Tests of the correct routes: they pass under the preload.
//   node --require header-guard/register --test examples/testing/node-test/clean.test.js
const { test } = require('node:test');
const request = require('supertest');
const { createApp } = require('../app.js');

test('GET /health answers ok', async () => {
  await request(createApp()).get('/health').expect(200, 'ok');
});

test('GET /users/7 answers the user', async () => {
  await request(createApp()).get('/users/7').expect(200, { id: 7 });
});
