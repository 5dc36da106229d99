// npm run bench:inprocess: the same comparison as bench/run.mjs without the network, for a
// steadier reading of the guard's own cost. Each measurement is a fresh process
// (bench/inprocess-worker.js) for one variant, NODE_ENV and route; variants are interleaved
// round by round and the report gives the median of the per-round ratios against the bare app.
// `--framework koa` or `fastify` measures that framework's adapter against the bare framework
// and its own no-op middleware or plugin, the same way.
//
//   npm run bench:inprocess [-- --rounds 5] [--framework express|koa|fastify] [--env production] [--write] [--compare <checkout>]
//
// --compare adds a variant: the guard built in another checkout (its dist/), e.g. the commit
// before a change, measured in the same rounds as this one.
//
// The default is that of the run the README publishes. The report goes to stdout; --write also
// replaces bench/results-inprocess.md (results-inprocess-koa.md, -fastify.md for the others;
// tracked: write it only for a run you mean to publish).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './median.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    framework: { type: 'string', default: 'express' },
    env: { type: 'string', multiple: true },
    write: { type: 'boolean', default: false },
    compare: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const FRAMEWORK = values.framework;
const FRAMEWORKS = { express: ['Express 5', 'headerGuard()', 'middleware'], koa: ['Koa 3', 'koaHeaderGuard()', 'middleware'], fastify: ['Fastify 5', 'headerGuardPlugin', 'plugin'] };
if (!(FRAMEWORK in FRAMEWORKS)) throw new Error('--framework is express, koa or fastify');
const [FRAMEWORK_NAME, GUARD_NAME, NOOP_KIND] = FRAMEWORKS[FRAMEWORK];
const VARIANTS = ['bare', 'noop', 'guard', ...(values.compare === undefined ? [] : ['compared'])];
const ENVS = values.env ?? ['production', 'development'];
const ROUTES = ['/hello', '/json'];

/** CPU µs per request of one fresh worker process. */
function measure(env, variant, route) {
  const output = execFileSync(process.execPath, [join(here, 'inprocess-worker.js'), route], {
    env: variant === 'compared'
      ? { ...process.env, NODE_ENV: env, BENCH_FRAMEWORK: FRAMEWORK, BENCH_VARIANT: 'guard', BENCH_GUARD_DIST: join(values.compare, 'dist') }
      : { ...process.env, NODE_ENV: env, BENCH_FRAMEWORK: FRAMEWORK, BENCH_VARIANT: variant },
    encoding: 'utf8',
  });
  return Number(output.trim());
}

const samples = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const env of ENVS) {
    for (const route of ROUTES) {
      const key = `${env} ${route}`;
      samples[key] ??= Object.fromEntries(VARIANTS.map((variant) => [variant, { cpu: [], ratio: [] }]));
      const order = VARIANTS.map((_, index) => VARIANTS[(index + round) % VARIANTS.length]);
      const result = {};
      for (const variant of order) result[variant] = measure(env, variant, route);
      for (const variant of VARIANTS) {
        samples[key][variant].cpu.push(result[variant]);
        samples[key][variant].ratio.push(result[variant] / result.bare);
      }
    }
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}

const cell = (sample) => `${median(sample.cpu).toFixed(1)} (${median(sample.ratio).toFixed(3)}x)`;
const rows = [
  `| NODE_ENV | route | bare CPU µs/req | no-op ${NOOP_KIND}: µs/req (ratio) | guarded: µs/req (ratio) | guarded minus no-op, µs |${values.compare === undefined ? '' : ' compared build: µs/req (ratio) | compared minus no-op, µs |'}`,
  `| --- | --- | --- | --- | --- | --- |${values.compare === undefined ? '' : ' --- | --- |'}`,
];
for (const env of ENVS) {
  for (const route of ROUTES) {
    const { bare, noop, guard, compared } = samples[`${env} ${route}`];
    const above = (sample) => median(sample.cpu.map((value, index) => value - noop.cpu[index])).toFixed(2);
    const more = compared === undefined ? '' : ` ${cell(compared)} | ${above(compared)} |`;
    rows.push(`| ${env} | ${route} | ${median(bare.cpu).toFixed(1)} | ${cell(noop)} | ${cell(guard)} | ${above(guard)} |${more}`);
  }
}
const table = rows.join('\n');
const report = `# In-process benchmark results${FRAMEWORK === 'express' ? '' : `: ${FRAMEWORK_NAME}`}

${FRAMEWORK_NAME} on real \`IncomingMessage\`/\`ServerResponse\` objects over a socket that drops what
it is given: no HTTP parser, no kernel, so the ratios are larger than a load test's (the same µs
over a smaller request) but steadier. Bare, behind a no-op ${NOOP_KIND}, and behind
\`${GUARD_NAME}\` with its defaults for each NODE_ENV. ${ROUNDS} rounds, a fresh process per
measurement (5 batches of 10,000 requests after 20,000 of warm-up, median batch), variants
interleaved; medians of the per-round values. Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.

${table}

Command: \`npm run bench:inprocess -- --rounds ${ROUNDS}${FRAMEWORK === 'express' ? '' : ` --framework ${FRAMEWORK}`} --write\`.
`;
if (values.write) writeFileSync(join(here, FRAMEWORK === 'express' ? 'results-inprocess.md' : `results-inprocess-${FRAMEWORK}.md`), report);
console.log(table);
