// The measuring side of a framework benchmark server (bench/koa-server.js, bench/fastify-server.js):
// between the driver's 'start' and 'stop' it counts requests and the process's CPU, and answers
// 'stop' with the CPU µs per request; 'exit' closes the server and ends the process.
'use strict';

/** Start answering the driver; returns the function each handled request calls. */
function meter(close) {
  let requests = 0;
  let cpu;
  process.on('message', (message) => {
    if (message === 'start') {
      requests = 0;
      cpu = process.cpuUsage();
      process.send('started');
    } else if (message === 'stop') {
      const used = process.cpuUsage(cpu);
      process.send({ us: (used.user + used.system) / requests, requests });
    } else if (message === 'exit') {
      Promise.resolve(close()).then(() => process.exit(0));
    }
  });
  return () => {
    requests++;
  };
}

module.exports = { meter };
