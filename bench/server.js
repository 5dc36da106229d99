// One benchmark server: the app of bench/app.js for BENCH_VARIANT, under the NODE_ENV it runs
// under. It measures its own CPU between the driver's `start` and `stop`.
'use strict';
const app = require('./app.js')(process.env.BENCH_VARIANT);

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
