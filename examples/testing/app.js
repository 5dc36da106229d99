// The app under test in the testing examples. Two real bugs hide in it:
//  - GET /users/:id answers 400 for a bad id but forgets to `return`, so it answers twice;
//  - POST /orders calls next() after answering, so Express runs on into its 404 handler.
// Without header-guard, tests that only check the client's answer pass anyway.
const express = require('express');

function createApp() {
  const app = express();

  app.get('/health', (req, res) => {
    res.send('ok');
  });

  app.get('/users/:id', (req, res) => {
    if (!/^\d+$/.test(req.params.id)) {
      res.status(400).json({ error: 'id must be a number' }); // missing `return`
    }
    res.json({ id: Number(req.params.id) });
  });

  app.post('/orders', (req, res, next) => {
    res.status(201).json({ created: true });
    next(); // answered already
  });

  return app;
}

module.exports = { createApp };
