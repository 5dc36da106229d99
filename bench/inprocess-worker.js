// One in-process measurement: Express 5 (bare, behind a no-op middleware, or behind
// headerGuard() with its defaults for this NODE_ENV) serving real IncomingMessage and
// ServerResponse objects over a socket that discards what it is given. No network, so the
// numbers are far steadier than a load test's; the cost of the HTTP parser and of the kernel
// is left out, which makes the ratios larger than bench/run.mjs's. Prints CPU µs per request.
//
//   BENCH_VARIANT=guard NODE_ENV=production node bench/inprocess-worker.js /hello
'use strict';
const diagnosticsChannel = require('node:diagnostics_channel');
const http = require('node:http');
const { Duplex } = require('node:stream');

const route = process.argv[2] ?? '/hello';
const app = require('./app.js')(process.env.BENCH_VARIANT);

/** A socket that accepts and drops every write. */
class NullSocket extends Duplex {
  _read() {}
  _write(chunk, encoding, callback) {
    callback();
  }
  _writev(chunks, callback) {
    callback();
  }
}

// What Node's HTTP server does for each request, minus the parser: the request start channel
// (which the guard listens to), then the app.
const requestStart = diagnosticsChannel.channel('http.server.request.start');
const server = {};

/** One request through the app; resolves when the response has finished. */
function one() {
  return new Promise((resolve) => {
    const socket = new NullSocket();
    socket.server = server;
    const req = new http.IncomingMessage(socket);
    req.method = 'GET';
    req.url = route;
    req.headers = { host: 'localhost' };
    req.push(null);
    const res = new http.ServerResponse(req);
    if (requestStart.hasSubscribers) requestStart.publish({ request: req, response: res, socket, server });
    res.assignSocket(socket);
    res.on('finish', () => {
      res.detachSocket(socket);
      resolve();
    });
    app(req, res);
  });
}

(async () => {
  const BATCH = 10000;
  for (let i = 0; i < 2 * BATCH; i++) await one(); // warm-up
  const perRequest = [];
  for (let batch = 0; batch < 5; batch++) {
    const start = process.cpuUsage();
    for (let i = 0; i < BATCH; i++) await one();
    const used = process.cpuUsage(start);
    perRequest.push((used.user + used.system) / BATCH);
  }
  perRequest.sort((a, b) => a - b);
  process.stdout.write(`${perRequest[2]}\n`);
})();
