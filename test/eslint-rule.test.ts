// header-guard/eslint's no-late-response under ESLint's RuleTester (run by node:test): every
// response kind, answer and path the rule follows, each buggy and fixed, and the idioms of correct
// code it must stay silent on. Messages are checked for both calls and both lines.
import { describe, it } from 'node:test';
import tsParser from '@typescript-eslint/parser';
import { RuleTester } from 'eslint';
import plugin from '../src/eslint/index.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const rule = plugin.rules['no-late-response'];
const esm = new RuleTester({ languageOptions: { ecmaVersion: 2024, sourceType: 'module' } });
const cjs = new RuleTester({ languageOptions: { ecmaVersion: 2024, sourceType: 'commonjs' } });
const ts = new RuleTester({ languageOptions: { parser: tsParser, ecmaVersion: 2024, sourceType: 'module' } });

type Kind = 'double-send' | 'late-status' | 'late-header' | 'write-after-end' | 'next-after-send';

/** Escape text for a RegExp. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Code without its first newline, so that line 1 is the first line written. */
const code = (text: string) => text.replace(/^\n/, '');

/**
 * One expected report: the late call and its line, the earlier call and its line, the kind, and
 * the code after the suggestion (undefined: no suggestion).
 */
function late(kind: Kind, call: string, line: number, first: string, firstLine: number, output?: string) {
  return {
    line,
    message: new RegExp(`^${escape(`\`${call}\` on line ${line} can run after \`${first}\` on line ${firstLine} `)}.*\\(${kind}\\)\\.${output === undefined ? '$' : escape(` Return at line ${firstLine}.`)}`),
    suggestions: output === undefined ? [] : [{ messageId: 'returnThere', data: { line: String(firstLine), first }, output }],
  };
}

/** Insert `return ` before the first occurrence of `statement` in `text`. */
const returnAt = (text: string, statement: string) => text.replace(statement, `return ${statement}`);

describe('no-late-response: responses, whatever their names', () => {
  const express = code(`
import express from 'express';
const app = express();
app.get('/users/:id', (req, res) => {
  if (!req.params.id) {
    res.status(400).json({ error: 'id' });
  }
  res.json({ id: req.params.id });
});
`);
  const renamed = code(`
router.post('/x', function (rq, rs) {
  if (rq.body.bad) rs.status(422).send('bad');
  rs.send('ok');
});
`);
  const errorHandler = code(`
app.use((e, rq, rs, nx) => {
  if (e.expose) rs.status(e.status).json({ message: e.message });
  rs.status(500).json({ message: 'internal' });
});
`);
  const route = code(`
router.route('/items').get((a, b) => {
  if (a.query.empty) b.sendStatus(204);
  b.json([]);
});
`);
  const connect = code(`
const connect = require('connect');
connect().use(function (request, response, proceed) {
  if (request.url === '/') proceed();
  proceed();
});
`);
  const nodeHttp = code(`
const http = require('node:http');
http.createServer((incoming, outgoing) => {
  if (incoming.url === '/missing') {
    outgoing.writeHead(404);
    outgoing.end('missing');
  }
  outgoing.setHeader('content-type', 'text/plain');
  outgoing.end('ok');
});
`);
  const onRequest = code(`
server.on('request', (q, s) => {
  if (q.method !== 'GET') s.end('no');
  s.statusCode = 200;
  s.end('yes');
});
`);
  const nextApi = code(`
export default async function handler(request, reply) {
  if (request.method !== 'POST') {
    reply.status(405).json({ error: 'method' });
  }
  reply.status(200).json({ ok: true });
}
`);
  const fastifyAsync = code(`
import Fastify from 'fastify';
const fastify = Fastify();
fastify.get('/items/:id', async (request, reply) => {
  const item = await find(request.params.id);
  if (!item) {
    reply.code(404).send({ error: 'not found' });
  }
  return item;
});
`);
  const fastifyOptions = code(`
fastify.route({
  method: 'GET',
  url: '/',
  handler(q, r) {
    if (q.query.old) r.redirect('/new');
    r.code(200).send('here');
  },
});
`);
  const passedOn = code(`
function respond(out, data) {
  if (!data) {
    out.status(404).send('none');
  }
  out.send(data);
}
app.get('/', (req, res) => respond(res, load()));
`);
  const byName = code(`
exports.show = async (req, res, next) => {
  const user = await User.findById(req.params.id);
  if (!user) next(new Error('not found'));
  res.render('user', { user });
};
`);
  const registeredByName = code(`
function handler(q, s) {
  if (q.query.a) s.json(1);
  s.json(2);
}
app.get('/', handler);
`);

  esm.run('Express, Next.js, node:http, Fastify (ESM)', rule, {
    valid: [],
    invalid: [
      { code: express, errors: [late('double-send', 'res.json(…)', 7, "res.status(400).json(…)", 5, returnAt(express, "res.status(400).json({ error: 'id' });"))] },
      { code: renamed, errors: [late('double-send', "rs.send('ok')", 3, "rs.status(422).send('bad')", 2, returnAt(renamed, "rs.status(422).send('bad');"))] },
      { code: errorHandler, errors: [late('double-send', 'rs.status(500).json(…)', 3, 'rs.status(…).json(…)', 2, returnAt(errorHandler, 'rs.status(e.status).json({ message: e.message });'))] },
      { code: route, errors: [late('double-send', 'b.json(…)', 3, 'b.sendStatus(204)', 2, returnAt(route, 'b.sendStatus(204);'))] },
      {
        code: nodeHttp,
        errors: [
          late('late-header', 'outgoing.setHeader(…)', 7, "outgoing.end('missing')", 5, returnAt(nodeHttp, "outgoing.end('missing');")),
          late('write-after-end', "outgoing.end('ok')", 8, "outgoing.end('missing')", 5, returnAt(nodeHttp, "outgoing.end('missing');")),
        ],
      },
      { code: onRequest, errors: [late('write-after-end', "s.end('yes')", 4, "s.end('no')", 2, returnAt(onRequest, "s.end('no');"))] },
      { code: nextApi, filename: 'pages/api/items.js', errors: [late('double-send', 'reply.status(200).json(…)', 5, 'reply.status(405).json(…)', 3, returnAt(nextApi, "reply.status(405).json({ error: 'method' });"))] },
      { code: fastifyAsync, errors: [late('double-send', 'return …', 8, 'reply.code(404).send(…)', 6, returnAt(fastifyAsync, "reply.code(404).send({ error: 'not found' });"))] },
      { code: fastifyOptions, errors: [late('double-send', "r.code(200).send('here')", 6, "r.redirect('/new')", 5, returnAt(fastifyOptions, "r.redirect('/new');"))] },
      { code: passedOn, errors: [late('double-send', 'out.send(data)', 5, "out.status(404).send('none')", 3, returnAt(passedOn, "out.status(404).send('none');"))] },
      { code: registeredByName, errors: [late('double-send', 's.json(2)', 3, 's.json(1)', 2, returnAt(registeredByName, 's.json(1);'))] },
    ],
  });

  cjs.run('Connect and controllers registered elsewhere (CommonJS)', rule, {
    valid: [],
    invalid: [
      { code: connect, errors: [late('next-after-send', 'proceed()', 4, 'proceed()', 3, returnAt(connect, "if (request.url === '/') proceed();").replace("return if (request.url === '/') proceed();", "if (request.url === '/') return proceed();"))] },
      { code: byName, errors: [late('double-send', 'res.render(…)', 4, 'next(…)', 3, byName.replace('if (!user) next(', 'if (!user) return next('))] },
    ],
  });
});
