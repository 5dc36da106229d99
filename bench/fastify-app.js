// The Fastify 5 app the framework benchmarks measure (internal to bench/): a hello-world route and
// a JSON route, bare, behind a no-op plugin (applied to the whole app as fastify-plugin does,
// whose onRequest hook does nothing) or behind header-guard/fastify with its defaults for NODE_ENV.
'use strict';
const Fastify = require('fastify');

/** The app for a variant (`bare`, `noop`, `guard`); `onRequest` runs once per request the app handles. */
module.exports = function fastifyBenchApp(variant, onRequest = () => {}, fastifyOptions = {}) {
  const app = Fastify({ logger: false, ...fastifyOptions });
  function noop(instance, _options, done) {
    instance.addHook('onRequest', (_request, _reply, next) => next());
    done();
  }
  noop[Symbol.for('skip-override')] = true;
  if (variant === 'noop') app.register(noop);
  // BENCH_GUARD_DIST: another build's dist/, to measure it in the same run (--compare).
  if (variant === 'guard') app.register(require(`${process.env.BENCH_GUARD_DIST ?? '../dist'}/adapters/fastify.js`).headerGuardPlugin);
  app.get('/hello', (_request, reply) => {
    onRequest();
    reply.send('hello');
  });
  app.get('/json', (_request, reply) => {
    onRequest();
    reply.send({ id: 1, name: 'Ada', tags: ['a', 'b'] });
  });
  return app;
};
