// npm run bench:koa / bench:fastify: CPU per request of a bare Koa 3 (or Fastify 5) app, the same
// app behind a no-op middleware (plugin) and behind the framework's header-guard adapter, under
// NODE_ENV=production and development, measured as bench/run.mjs measures Express (server
// processes from bench/<framework>-server.js, autocannon from here, variants interleaved round
// by round, median of per-round ratios to bare).
//
//   node bench/frameworks.mjs --framework koa|fastify [--rounds 6 --seconds 3]
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { median } from './median.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { framework: { type: 'string', default: 'koa' }, rounds: { type: 'string', default: '6' }, seconds: { type: 'string', default: '3' } } });
if (!['koa', 'fastify'].includes(values.framework)) throw new Error('--framework is koa or fastify');
const VARIANTS = ['bare', 'noop', 'guard'];
const ask = (child, message) => new Promise((resolve) => { child.once('message', resolve); child.send(message); });

async function measure(env, variant, route) {
  const child = fork(join(here, `${values.framework}-server.js`), { env: { ...process.env, NODE_ENV: env, BENCH_VARIANT: variant } });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  await autocannon({ url: `http://127.0.0.1:${port}${route}`, connections: 10, duration: 1 });
  await ask(child, 'start');
  const load = await autocannon({ url: `http://127.0.0.1:${port}${route}`, connections: 10, duration: Number(values.seconds) });
  const { us } = await ask(child, 'stop');
  child.send('exit');
  await new Promise((resolve) => child.once('exit', resolve));
  return { us, rps: load.requests.average };
}

const lines = ['| NODE_ENV | route | bare CPU µs/req | no-op: ratio | guarded CPU µs/req | guarded: ratio, median (min–max) | bare req/s | guarded req/s |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
for (const env of ['production', 'development']) {
  for (const route of ['/hello', '/json']) {
    const runs = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
    for (let round = 0; round < Number(values.rounds); round++) for (const variant of VARIANTS) runs[variant].push(await measure(env, variant, route));
    const ratios = (variant) => runs[variant].map((run, index) => run.us / runs.bare[index].us);
    const us = (variant) => median(runs[variant].map((run) => run.us)).toFixed(1);
    const rps = (variant) => Math.round(median(runs[variant].map((run) => run.rps)));
    const guard = ratios('guard');
    lines.push(`| ${env} | ${route} | ${us('bare')} | ${median(ratios('noop')).toFixed(3)}x | ${us('guard')} | **${median(guard).toFixed(3)}x (${Math.min(...guard).toFixed(3)}–${Math.max(...guard).toFixed(3)})** | ${rps('bare')} | ${rps('guard')} |`);
    console.error(lines.at(-1));
  }
}
console.log(lines.join('\n'));
