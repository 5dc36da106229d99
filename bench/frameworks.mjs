// npm run bench:koa / bench:fastify: CPU per request of a bare Koa 3 (or Fastify 5) app, the same
// app behind a no-op middleware (plugin) and behind the framework's header-guard adapter, under
// NODE_ENV=production and development, measured as bench/run.mjs measures Express (server
// processes from bench/<framework>-server.js, autocannon from here, variants interleaved round
// by round in an order that rotates, median of per-round ratios to bare). Servers run on CPU 0 and
// autocannon on CPU 1 where taskset exists (`--pin off` to not pin), as bench/run.mjs does.
// bench/inprocess.mjs --framework koa|fastify measures the same apps without the network.
//
//   node bench/frameworks.mjs --framework koa|fastify [--rounds 6 --seconds 3] [--env production] [--pin off]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { median } from './median.mjs';
import { pinDriver, startServerProcess } from './pin.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    framework: { type: 'string', default: 'koa' },
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '3' },
    env: { type: 'string', multiple: true },
    pin: { type: 'string', default: 'auto' },
  },
});
if (!['koa', 'fastify'].includes(values.framework)) throw new Error('--framework is koa or fastify');
const VARIANTS = ['bare', 'noop', 'guard'];
const ENVS = values.env ?? ['production', 'development'];
const ask = (child, message) => new Promise((resolve) => { child.once('message', resolve); child.send(message); });

/** Servers on CPU 0, autocannon (this process) on CPU 1 (bench/pin.mjs); `--pin off` never pins. */
const PIN = pinDriver(values.pin);

async function measure(env, variant, route) {
  const script = join(here, `${values.framework}-server.js`);
  const options = { env: { ...process.env, NODE_ENV: env, BENCH_VARIANT: variant }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
  const child = startServerProcess(script, options, PIN);
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  await autocannon({ url: `http://127.0.0.1:${port}${route}`, connections: 10, duration: 1 });
  await ask(child, 'start');
  const load = await autocannon({ url: `http://127.0.0.1:${port}${route}`, connections: 10, duration: Number(values.seconds) });
  if (load.errors > 0 || load.non2xx > 0) throw new Error(`${variant} ${route}: ${load.non2xx} answers not 2xx, ${load.errors} errors`);
  const { us } = await ask(child, 'stop');
  child.send('exit');
  await new Promise((resolve) => child.once('exit', resolve));
  return { us, rps: load.requests.average };
}

const lines = ['| NODE_ENV | route | bare CPU µs/req | no-op: ratio, median (min–max) | guarded CPU µs/req | guarded: ratio, median (min–max) | guarded minus no-op, µs | bare req/s | guarded req/s |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
for (const env of ENVS) {
  for (const route of ['/hello', '/json']) {
    const runs = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
    for (let round = 0; round < Number(values.rounds); round++) {
      // The order rotates by round, so no variant always runs first or right after another.
      for (const variant of VARIANTS.map((_, index) => VARIANTS[(index + round) % VARIANTS.length])) runs[variant].push(await measure(env, variant, route));
    }
    const ratios = (variant) => runs[variant].map((run, index) => run.us / runs.bare[index].us);
    const us = (variant) => median(runs[variant].map((run) => run.us)).toFixed(1);
    const rps = (variant) => Math.round(median(runs[variant].map((run) => run.rps)));
    const spread = (list) => `${median(list).toFixed(3)}x (${Math.min(...list).toFixed(3)}–${Math.max(...list).toFixed(3)})`;
    const above = median(runs.guard.map((run, index) => run.us - runs.noop[index].us)).toFixed(1);
    lines.push(`| ${env} | ${route} | ${us('bare')} | ${spread(ratios('noop'))} | ${us('guard')} | **${spread(ratios('guard'))}** | ${above} | ${rps('bare')} | ${rps('guard')} |`);
    console.error(lines.at(-1));
  }
}
console.log(lines.join('\n'));
