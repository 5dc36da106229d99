// The Koa 3 app the framework benchmarks measure (internal to bench/): a hello-world route and a
// JSON route, bare, behind a no-op middleware (one that only awaits next(): the floor any
// middleware pays) or behind koaHeaderGuard() with its defaults for this NODE_ENV.
'use strict';
const Koa = require('koa');

/** The app for a variant (`bare`, `noop`, `guard`); `onRequest` runs once per request the app handles. */
module.exports = function koaBenchApp(variant, onRequest = () => {}) {
  const app = new Koa();
  // BENCH_GUARD_DIST: another build's dist/, to measure it in the same run (--compare).
  if (variant === 'guard') app.use(require(`${process.env.BENCH_GUARD_DIST ?? '../dist'}/adapters/koa.js`).koaHeaderGuard());
  if (variant === 'noop') app.use(async (_ctx, next) => { await next(); });
  app.use((ctx) => {
    onRequest();
    if (ctx.path === '/json') {
      ctx.status = 200;
      ctx.body = { id: 1, name: 'Ada', tags: ['a', 'b'] };
    } else ctx.body = 'hello';
  });
  return app;
};
