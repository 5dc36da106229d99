// One Koa 3 server for bench/frameworks.mjs: the app of bench/koa-app.js for BENCH_VARIANT.
const { meter } = require('./cpu-meter.js');

let server;
const counted = meter(() => new Promise((resolve) => server.close(resolve)));
const app = require('./koa-app.js')(process.env.BENCH_VARIANT, counted);
server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
