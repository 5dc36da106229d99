// The app every benchmark measures (internal to bench/): Express 5 with a hello-world route and a
// JSON route behind one ordinary middleware, bare or behind one middleware of the variant's kind.
'use strict';
const express = require('express');

/**
 * The benchmark app for a variant: `bare`, `noop` (one middleware that only calls next(): the
 * floor any middleware pays), `guard` (headerGuard() with its defaults for this NODE_ENV), or
 * `preload` (bare; the guard comes from `--require header-guard/register`).
 */
module.exports = function benchApp(variant) {
  const app = express();
  // BENCH_GUARD_DIST: another build's dist/, to measure it in the same run (--compare).
  if (variant === 'guard') app.use(require(`${process.env.BENCH_GUARD_DIST ?? '../dist'}/index.js`).headerGuard());
  if (variant === 'noop') app.use((req, res, next) => next());

  app.get('/hello', (req, res) => {
    res.send('Hello World!');
  });

  // The JSON route sits behind one ordinary middleware.
  app.use(express.json());
  app.get('/json', (req, res) => {
    res.json({ id: 42, name: 'Ada Lovelace', roles: ['admin', 'author'], active: true });
  });
  return app;
};
