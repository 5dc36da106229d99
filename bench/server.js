// One benchmark server: bare Express 5, or Express 5 behind headerGuard() with its defaults for
// the NODE_ENV it runs under. It measures its own CPU between the driver's `start` and `stop`.
'use strict';
const express = require('express');

// BENCH_VARIANT: bare, noop (one middleware that only calls next(): the floor any middleware
// pays), or guard (headerGuard() with its defaults).
const variant = process.env.BENCH_VARIANT;
const app = express();
if (variant === 'guard') app.use(require('../dist/index.js').headerGuard());
if (variant === 'noop') app.use((req, res, next) => next());

app.get('/hello', (req, res) => {
  res.send('Hello World!');
});

// The JSON route sits behind one ordinary middleware.
app.use(express.json());
app.get('/json', (req, res) => {
  res.json({ id: 42, name: 'Ada Lovelace', roles: ['admin', 'author'], active: true });
});

let startCpu;
process.on('message', (message) => {
  if (message === 'start') {
    startCpu = process.cpuUsage();
    process.send({ started: true });
  } else if (message === 'stop') {
    const used = process.cpuUsage(startCpu);
    process.send({ cpuMicros: used.user + used.system });
  } else if (message === 'exit') {
    process.exit(0);
  }
});

const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
