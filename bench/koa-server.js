// One Koa 3 server for bench/frameworks.mjs: BENCH_VARIANT bare, noop (a middleware that only
// awaits next()) or guard (koaHeaderGuard() with its defaults for NODE_ENV).
const Koa = require('koa');
const { koaHeaderGuard } = require('../dist/adapters/koa.js');
const { meter } = require('./cpu-meter.js');

const app = new Koa();
const variant = process.env.BENCH_VARIANT;
if (variant === 'noop') app.use(async (_ctx, next) => { await next(); });
if (variant === 'guard') app.use(koaHeaderGuard());
// Koa composes its middleware when it starts listening: every app.use() comes first.
let server;
const counted = meter(() => new Promise((resolve) => server.close(resolve)));
app.use((ctx) => {
  counted();
  if (ctx.path === '/json') {
    ctx.status = 200;
    ctx.body = { id: 1, name: 'Ada', tags: ['a', 'b'] };
  } else ctx.body = 'hello';
});
server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
