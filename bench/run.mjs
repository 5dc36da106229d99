// npm run bench: CPU per request of bare Express 5 against Express 5 behind headerGuard() with
// its defaults, under NODE_ENV=production and development, on a hello-world route and a JSON
// route behind one middleware. Each variant is its own server process; autocannon loads it from
// this process; the server measures its own CPU (process.cpuUsage) per run. Variants are
// interleaved round by round and the report gives the median of the per-round ratios.
//
//   npm run bench [-- --rounds 10 --seconds 3 --check] [--env production] [--route /hello]
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    check: { type: 'boolean', default: false },
    env: { type: 'string', multiple: true },
    route: { type: 'string', multiple: true },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const TARGETS = { production: 1.02, development: 1.1 };
const ROUTES = values.route ?? ['/hello', '/json'];
const ENVS = values.env ?? ['production', 'development'];

/** Start one server process and wait for its port. */
function startServer(env, guard) {
  const child = fork(join(here, 'server.js'), { env: { ...process.env, NODE_ENV: env, BENCH_GUARD: guard ? '1' : '0' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', ({ port }) => resolve({ child, port, env, guard })));
}

/** Ask a server something over IPC and wait for its answer. */
function ask(server, message) {
  return new Promise((resolve) => {
    server.child.once('message', resolve);
    server.child.send(message);
  });
}

/** One measured run: load one route for `seconds`; CPU per request in µs and req/s. */
async function measure(server, route, seconds) {
  await ask(server, 'start');
  const result = await autocannon({ url: `http://127.0.0.1:${server.port}${route}`, connections: CONNECTIONS, duration: seconds });
  const { cpuMicros } = await ask(server, 'stop');
  const ok = result['2xx'];
  if (ok === 0 || result.errors > 0 || result.non2xx > 0) throw new Error(`${route}: ${ok} answered 2xx, ${result.non2xx} not, ${result.errors} errors`);
  return { cpuPerRequest: cpuMicros / ok, rps: ok / seconds };
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const servers = [];
for (const env of ENVS) for (const guard of [false, true]) servers.push(await startServer(env, guard));
const find = (env, guard) => servers.find((server) => server.env === env && server.guard === guard);

// Warm-up: JIT and caches, not measured.
for (const server of servers) for (const route of ROUTES) await measure(server, route, 1);

const samples = {}; // key `${env} ${route}` -> { ratios: [], bare: [], guard: [], rpsBare: [], rpsGuard: [] }
for (let round = 0; round < ROUNDS; round++) {
  for (const route of ROUTES) {
    for (const env of ENVS) {
      const key = `${env} ${route}`;
      samples[key] ??= { ratios: [], bare: [], guard: [], rpsBare: [], rpsGuard: [] };
      // Alternate which variant goes first, so drift in the machine's load does not favour one.
      const order = round % 2 === 0 ? [false, true] : [true, false];
      const result = {};
      for (const guard of order) result[guard] = await measure(find(env, guard), route, SECONDS);
      const sample = samples[key];
      sample.ratios.push(result[true].cpuPerRequest / result[false].cpuPerRequest);
      sample.bare.push(result[false].cpuPerRequest);
      sample.guard.push(result[true].cpuPerRequest);
      sample.rpsBare.push(result[false].rps);
      sample.rpsGuard.push(result[true].rps);
    }
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}
for (const server of servers) server.child.send('exit');

const rows = [];
let met = true;
for (const env of ENVS) {
  for (const route of ROUTES) {
    const sample = samples[`${env} ${route}`];
    const ratio = median(sample.ratios);
    const target = TARGETS[env];
    met &&= ratio <= target;
    rows.push(`| ${env} | ${route} | ${median(sample.bare).toFixed(1)} | ${median(sample.guard).toFixed(1)} | **${ratio.toFixed(3)}x** (${Math.min(...sample.ratios).toFixed(3)}–${Math.max(...sample.ratios).toFixed(3)}) | ≤ ${target.toFixed(2)}x ${ratio <= target ? 'met' : 'MISSED'} | ${Math.round(median(sample.rpsBare))} | ${Math.round(median(sample.rpsGuard))} |`);
  }
}
const table = [
  '| NODE_ENV | route | bare CPU µs/req | guarded CPU µs/req | ratio: median (min–max) of per-round ratios | target | bare req/s | guarded req/s |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
const report = `# Benchmark results

Express 5 hello-world (\`/hello\`) and JSON behind \`express.json()\` (\`/json\`), bare against
\`app.use(headerGuard())\` with its defaults for each NODE_ENV. CPU per request measured inside each
server process with \`process.cpuUsage()\`; load from autocannon in the driver process
(${CONNECTIONS} connections, ${SECONDS} s per run); ${ROUNDS} rounds, variants interleaved, the
order of bare and guarded alternating by round. Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.

${table}

Command: \`npm run bench -- --rounds ${ROUNDS} --seconds ${SECONDS}\`. Single req/s figures on a
2-core machine shared with the load generator are noisy; the CPU ratios are the numbers to read.
`;
writeFileSync(join(here, 'results.md'), report);
console.log(table);
console.log(met ? '\nall targets met' : '\nsome targets MISSED');
if (values.check && !met) process.exitCode = 1;
