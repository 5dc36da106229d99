// One in-process measurement: Express 5 (bench/app.js), Koa 3 (bench/koa-app.js) or Fastify 5
// (bench/fastify-app.js), bare, behind a no-op middleware or plugin, or behind the guard with its
// defaults for this NODE_ENV, serving real IncomingMessage and ServerResponse objects over a
// socket that discards what it is given. No network, so the numbers are far steadier than a load
// test's; the cost of the HTTP parser and of the kernel is left out, which makes the ratios
// larger than a load test's. Prints CPU µs per request.
//
//   BENCH_FRAMEWORK=koa BENCH_VARIANT=guard NODE_ENV=production node bench/inprocess-worker.js /hello
'use strict';
const diagnosticsChannel = require('node:diagnostics_channel');
const http = require('node:http');
const { Duplex } = require('node:stream');

const route = process.argv[2] ?? '/hello';
const framework = process.env.BENCH_FRAMEWORK ?? 'express';
const variant = process.env.BENCH_VARIANT;

/** The framework's `(req, res)` request listener for this variant, ready to serve. */
async function listener() {
  if (framework === 'express') return require('./app.js')(variant);
  if (framework === 'koa') return require('./koa-app.js')(variant).callback();
  if (framework === 'fastify') {
    // Fastify hands its request listener to the server factory; the server is never started.
    let handler;
    const app = require('./fastify-app.js')(variant, undefined, {
      serverFactory: (handle) => {
        handler = handle;
        return http.createServer(handle);
      },
    });
    await app.ready();
    return handler;
  }
  throw new Error(`BENCH_FRAMEWORK is express, koa or fastify, not ${framework}`);
}
let app;

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
  app = await listener();
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
