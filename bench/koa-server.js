// One Koa 3 server for bench/koa.mjs: BENCH_VARIANT bare, noop (a middleware that only awaits
// next()) or guard (koaHeaderGuard() with its defaults for NODE_ENV). Measures its own CPU per
// request between 'start' and 'stop' messages.
const Koa = require('koa');
const { koaHeaderGuard } = require('../dist/adapters/koa.js');

const app = new Koa();
const variant = process.env.BENCH_VARIANT;
if (variant === 'noop') app.use(async (_ctx, next) => { await next(); });
if (variant === 'guard') app.use(koaHeaderGuard());
let requests = 0;
app.use((ctx) => {
  requests++;
  if (ctx.path === '/json') {
    ctx.status = 200;
    ctx.body = { id: 1, name: 'Ada', tags: ['a', 'b'] };
  } else ctx.body = 'hello';
});
let cpu;
const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message === 'start') {
    requests = 0;
    cpu = process.cpuUsage();
    process.send('started');
  } else if (message === 'stop') {
    const used = process.cpuUsage(cpu);
    process.send({ us: (used.user + used.system) / requests, requests });
  } else if (message === 'exit') server.close(() => process.exit(0));
});
