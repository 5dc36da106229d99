// One Fastify 5 server for bench/frameworks.mjs: BENCH_VARIANT bare, noop (a plugin, applied to
// the whole app as fastify-plugin does, whose onRequest hook does nothing) or guard
// (header-guard/fastify with its defaults for NODE_ENV).
const Fastify = require('fastify');
const { headerGuardPlugin } = require('../dist/adapters/fastify.js');
const { meter } = require('./cpu-meter.js');

const app = Fastify({ logger: false });
const variant = process.env.BENCH_VARIANT;
function noop(instance, _options, done) {
  instance.addHook('onRequest', (_request, _reply, next) => next());
  done();
}
noop[Symbol.for('skip-override')] = true;
if (variant === 'noop') app.register(noop);
if (variant === 'guard') app.register(headerGuardPlugin);
const counted = meter(() => app.close());
app.get('/hello', (_request, reply) => {
  counted();
  reply.send('hello');
});
app.get('/json', (_request, reply) => {
  counted();
  reply.send({ id: 1, name: 'Ada', tags: ['a', 'b'] });
});
app.listen({ port: 0, host: '127.0.0.1' }).then(() => process.send({ port: app.server.address().port }));
