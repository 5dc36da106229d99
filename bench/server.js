// One benchmark server: bare Express 5, or Express 5 behind headerGuard() with its defaults for
// the NODE_ENV it runs under. It measures its own CPU between the driver's `start` and `stop`.
'use strict';
const express = require('express');

const guarded = process.env.BENCH_GUARD === '1';
const app = express();
if (guarded) app.use(require('../dist/index.js').headerGuard());

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
