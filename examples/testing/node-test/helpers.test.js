// header-guard/testing in log mode: each test fails on any violation (assertNoViolations), and
// a test can assert that a bug is detected (expectViolation).
//   node --test --import header-guard/node-test examples/testing/node-test/helpers.test.js
const assert = require('node:assert/strict');
const { afterEach, beforeEach, test } = require('node:test');
const request = require('supertest');
const { assertNoViolations, expectViolation, resetViolations } = require('header-guard/testing');
const { createApp } = require('../app.js');

beforeEach(resetViolations);
afterEach(assertNoViolations);

test('GET /health has no late calls', async () => {
  await request(createApp()).get('/health').expect(200, 'ok');
});

test('the missing return on GET /users/abc is detected', async () => {
  await request(createApp()).get('/users/abc').expect(400);
  const violation = expectViolation('double-send');
  assert.equal(violation.route, '/users/:id');
  assert.match(violation.message, /examples\/testing\/app\.js:16:/);
});

test('next() after answering on POST /orders is detected', async () => {
  await request(createApp()).post('/orders').expect(201);
  assert.equal(expectViolation('next-after-send').call, 'next()');
});
