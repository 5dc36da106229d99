// One Fastify 5 server for bench/frameworks.mjs: the app of bench/fastify-app.js for BENCH_VARIANT.
const { meter } = require('./cpu-meter.js');

let app;
const counted = meter(() => app.close());
app = require('./fastify-app.js')(process.env.BENCH_VARIANT, counted);
app.listen({ port: 0, host: '127.0.0.1' }).then(() => process.send({ port: app.server.address().port }));
