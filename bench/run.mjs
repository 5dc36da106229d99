// npm run bench: CPU per request of bare Express 5 against Express 5 behind headerGuard() with
// its defaults, under NODE_ENV=production and development, on a hello-world route and a JSON
// route behind one middleware. Each variant is its own server process; autocannon loads it from
// this process; the server measures its own CPU (process.cpuUsage) per run. Variants are
// interleaved round by round and the report gives the median of the per-round ratios.
//
//   npm run bench [-- --rounds 15 --seconds 3 --check] [--env production] [--route /hello] [--preload] [--pin off] [--write]
//
// The defaults are those of the run the README publishes. The report goes to stdout; --write also
// replaces bench/results.md (tracked: write it only for a run you mean to publish).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './median.mjs';
import { pinDriver, startServerProcess } from './pin.mjs';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    check: { type: 'boolean', default: false },
    env: { type: 'string', multiple: true },
    route: { type: 'string', multiple: true },
    pin: { type: 'string', default: 'auto' },
    preload: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const TARGETS = { production: 1.02, development: 1.1 };
const ROUTES = values.route ?? ['/hello', '/json'];
const ENVS = values.env ?? ['production', 'development'];

// `--preload` adds bare Express under `node --require header-guard/register` in log mode: the
// guard with no middleware layer at all.
const VARIANTS = ['bare', 'noop', 'guard', ...(values.preload ? ['preload'] : [])];
const REGISTER = join(here, '..', 'dist', 'register.js');

/** Servers on CPU 0, autocannon (this process) on CPU 1 (bench/pin.mjs); `--pin off` never pins. */
const PIN = pinDriver(values.pin);

/** Start one server process (on CPU 0 when pinned) and wait for its port. */
function startServer(env, variant) {
  const preload = variant === 'preload' ? ['--require', REGISTER] : [];
  const options = {
    env: { ...process.env, NODE_ENV: env, BENCH_VARIANT: variant, ...(variant === 'preload' ? { HEADER_GUARD_MODE: 'log' } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  };
  const script = join(here, 'server.js');
  const child = startServerProcess(script, options, PIN, preload);
  return new Promise((resolve) => child.once('message', ({ port }) => resolve({ child, port, env, variant })));
}

/** Stop a server and wait for its process to exit. */
function stopServer(server) {
  return new Promise((resolve) => {
    server.child.once('exit', resolve);
    server.child.send('exit');
  });
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

const samples = {}; // `${env} ${route}` -> per variant: cpu and rps lists; ratio lists against bare
for (let round = 0; round < ROUNDS; round++) {
  for (const env of ENVS) {
    // Fresh server processes every round: what one process happens to settle on (heap sizes,
    // JIT timing) is then one round's noise, not a bias carried by a variant through the run.
    const servers = {};
    for (const variant of VARIANTS) servers[variant] = await startServer(env, variant);
    // Warm-up: JIT and caches, not measured.
    for (const variant of VARIANTS) for (const route of ROUTES) await measure(servers[variant], route, 1);
    for (const route of ROUTES) {
      const key = `${env} ${route}`;
      samples[key] ??= Object.fromEntries(VARIANTS.map((variant) => [variant, { cpu: [], rps: [], ratio: [] }]));
      // Rotate the order each round, so drift in the machine's load favours no variant.
      const order = VARIANTS.map((_, index) => VARIANTS[(index + round) % VARIANTS.length]);
      const result = {};
      for (const variant of order) result[variant] = await measure(servers[variant], route, SECONDS);
      for (const variant of VARIANTS) {
        const sample = samples[key][variant];
        sample.cpu.push(result[variant].cpuPerRequest);
        sample.rps.push(result[variant].rps);
        sample.ratio.push(result[variant].cpuPerRequest / result.bare.cpuPerRequest);
      }
    }
    await Promise.all(VARIANTS.map((variant) => stopServer(servers[variant])));
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}

const rows = [];
let met = true;
const ratioCell = (ratios) => `${median(ratios).toFixed(3)}x (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`;
for (const env of ENVS) {
  for (const route of ROUTES) {
    const { bare, noop, guard, preload } = samples[`${env} ${route}`];
    const ratio = median(guard.ratio);
    const target = TARGETS[env];
    met &&= ratio <= target;
    const preloadCell = preload === undefined ? '' : ` ${ratioCell(preload.ratio)} |`;
    rows.push(`| ${env} | ${route} | ${median(bare.cpu).toFixed(1)} | ${ratioCell(noop.ratio)} | ${median(guard.cpu).toFixed(1)} | **${ratioCell(guard.ratio)}** | ≤ ${target.toFixed(2)}x ${ratio <= target ? 'met' : 'MISSED'} | ${Math.round(median(bare.rps))} | ${Math.round(median(guard.rps))} |${preloadCell}`);
  }
}
const table = [
  `| NODE_ENV | route | bare CPU µs/req | no-op middleware: ratio | guarded CPU µs/req | guarded: ratio, median (min–max) of per-round ratios | target | bare req/s | guarded req/s |${values.preload ? ' preload, log mode, no middleware: ratio |' : ''}`,
  `| --- | --- | --- | --- | --- | --- | --- | --- | --- |${values.preload ? ' --- |' : ''}`,
  ...rows,
].join('\n');
const report = `# Benchmark results

Express 5 hello-world (\`/hello\`) and JSON behind \`express.json()\` (\`/json\`), bare against
\`app.use(headerGuard())\` with its defaults for each NODE_ENV. For scale, a no-op middleware
(\`app.use((req, res, next) => next())\`) shows what any middleware costs. CPU per request measured inside each
server process with \`process.cpuUsage()\`; load from autocannon in the driver process
(${CONNECTIONS} connections, ${SECONDS} s per run); ${ROUNDS} rounds, variants interleaved, the
order of the variants rotating by round, fresh server processes each round. ${PIN ? 'Servers pinned to CPU 0, the load generator to CPU 1 (taskset).' : 'Not pinned to CPUs.'} Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.

${table}

Command: \`npm run bench -- --rounds ${ROUNDS} --seconds ${SECONDS}\`. Single req/s figures on a
2-core machine shared with the load generator are noisy; the CPU ratios are the numbers to read.
`;
if (values.write) writeFileSync(join(here, 'results.md'), report);
console.log(table);
console.log(met ? '\nall targets met' : '\nsome targets MISSED');
if (values.check && !met) process.exitCode = 1;
