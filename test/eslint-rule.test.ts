// header-guard/eslint's no-late-response under ESLint's RuleTester (run by node:test): every
// response kind, answer and path the rule follows, each buggy and fixed, and the idioms of correct
// code it must stay silent on. Messages are checked for both calls and both lines.
import { describe, it } from 'node:test';
import * as tsParser from '@typescript-eslint/parser';
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

  const inArray = code(`
app.get('/', [auth, (x, y) => {
  if (x.a) y.end('x');
  y.json({});
}]);
`);
  const wrapped = code(`
router.get('/', auth, asyncHandler(async (q, r) => {
  if (q.a) r.json(1);
  r.json(2);
}));
`);
  const hook = code(`
fastify.addHook('preHandler', (req, rep, done) => {
  if (!req.user) rep.send('a');
  rep.send('b');
});
`);
  const logical = code(`
app.get('/', (req, res) => {
  req.query.a && res.json(1);
  res.json(2);
});
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
        // One report per first answer: outgoing.end('ok') is late after the same answer, and the same return fixes it.
        errors: [late('late-header', 'outgoing.setHeader(…)', 7, "outgoing.end('missing')", 5, returnAt(nodeHttp, "outgoing.end('missing');"))],
      },
      { code: onRequest, errors: [late('write-after-end', "s.end('yes')", 4, "s.end('no')", 2, returnAt(onRequest, "s.end('no');"))] },
      { code: nextApi, filename: 'pages/api/items.js', errors: [late('double-send', 'reply.status(200).json(…)', 5, 'reply.status(405).json(…)', 3, returnAt(nextApi, "reply.status(405).json({ error: 'method' });"))] },
      { code: fastifyAsync, errors: [late('double-send', 'return …', 8, 'reply.code(404).send(…)', 6, returnAt(fastifyAsync, "reply.code(404).send({ error: 'not found' });"))] },
      { code: fastifyOptions, errors: [late('double-send', "r.code(200).send('here')", 6, "r.redirect('/new')", 5, returnAt(fastifyOptions, "r.redirect('/new');"))] },
      { code: passedOn, errors: [late('double-send', 'out.send(data)', 5, "out.status(404).send('none')", 3, returnAt(passedOn, "out.status(404).send('none');"))] },
      { code: registeredByName, errors: [late('double-send', 's.json(2)', 3, 's.json(1)', 2, returnAt(registeredByName, 's.json(1);'))] },
      { code: inArray, errors: [late('double-send', 'y.json(…)', 3, "y.end('x')", 2, returnAt(inArray, "y.end('x');"))] },
      { code: wrapped, errors: [late('double-send', 'r.json(2)', 3, 'r.json(1)', 2, returnAt(wrapped, 'r.json(1);'))] },
      { code: hook, errors: [late('double-send', "rep.send('b')", 3, "rep.send('a')", 2, returnAt(hook, "rep.send('a');"))] },
      { code: logical, errors: [late('double-send', 'res.json(2)', 3, 'res.json(1)', 2)] },
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

describe('no-late-response: answers', () => {
  const methods = ["send('x')", 'json(data)', 'jsonp(data)', "end('x')", "sendFile('/f')", "download('/f')", "redirect('/login')", "render('page')", 'sendStatus(404)'];
  const methodCases = methods.map((call) => {
    const text = code(`
app.get('/', (req, res) => {
  if (req.query.a) res.${call};
  res.json({ ok: true });
});
`);
    return { code: text, errors: [late('double-send', 'res.json(…)', 3, `res.${call}`, 2, returnAt(text, `res.${call};`))] };
  });
  const writeHead = code(`
app.get('/', (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.setHeader('x-late', '1');
  res.end('ok');
});
`);
  const helper = code(`
function sendError(res, status, message) {
  res.status(status).json({ message });
}
const fail = (res) => sendError(res, 500, 'internal');
app.get('/a', (req, res) => {
  if (!req.user) sendError(res, 401, 'login');
  res.json(req.user);
});
app.get('/b', (req, res) => {
  if (req.query.broken) fail(res);
  res.json({});
});
`);
  const nextErr = code(`
app.get('/', async (req, res, next) => {
  try {
    res.json(await load());
  } catch (err) {
    next(err);
  }
  next();
});
`);
  const statusAfter = code(`
app.get('/', (req, res) => {
  res.send('done');
  res.status(500);
});
`);
  const writeThenJson = code(`
app.get('/', (req, res) => {
  res.write('partial');
  res.status(500).json({ error: 'late' });
});
`);
  esm.run('the answers: body methods, writeHead, chains, same-file helpers, next()', rule, {
    valid: [],
    invalid: [
      ...methodCases,
      { code: writeHead, errors: [late('late-header', 'res.setHeader(…)', 3, 'res.writeHead(…)', 2)] },
      {
        code: helper,
        errors: [
          late('double-send', 'res.json(…)', 7, 'sendError(res, …)', 6, returnAt(helper, "sendError(res, 401, 'login');")),
          late('double-send', 'res.json(…)', 11, 'fail(res)', 10, returnAt(helper, 'fail(res);')),
        ],
      },
      { code: nextErr, errors: [late('next-after-send', 'next()', 7, 'res.json(…)', 3, returnAt(nextErr, 'res.json(await load());'))] },
      // Both in one block: a return would only hide the late call, so no suggestion.
      { code: statusAfter, errors: [late('late-status', 'res.status(500)', 3, "res.send('done')", 2)] },
      { code: writeThenJson, errors: [late('late-status', 'res.status(500).json(…)', 3, "res.write('partial')", 2)] },
    ],
  });
});

describe('no-late-response: paths', () => {
  const ifElse = code(`
app.get('/', (req, res) => {
  if (req.query.a) {
    res.send('a');
  } else if (req.query.b) {
    res.send('b');
  }
  res.send('c');
});
`);
  const switchFall = code(`
app.get('/', (req, res) => {
  switch (req.query.kind) {
    case 'a':
      res.send('a');
    case 'b':
      res.send('b');
      break;
  }
});
`);
  const loop = code(`
app.post('/batch', (req, res) => {
  for (const item of req.body) {
    if (!item.valid) {
      res.status(400).json(item);
    }
  }
});
`);
  const whileLoop = code(`
app.post('/poll', (req, res) => {
  while (more()) {
    if (failed()) res.status(500).end();
  }
  res.end('done');
});
`);
  const answeredBeforeTry = code(`
app.get('/', async (req, res) => {
  res.json({ accepted: true });
  try {
    await work();
  } catch (err) {
    res.status(500).json({ error: 'failed' });
  }
});
`);
  const callback = code(`
app.get('/file', (req, res) => {
  fs.readFile(path, (err, data) => {
    if (err) {
      res.status(500).send('read failed');
    }
    res.send(data);
  });
});
`);
  const thenChain = code(`
app.post('/signup', (req, res) => {
  User.findOne({ email: req.body.email })
    .then((existing) => {
      if (existing) {
        return res.status(409).json({ error: 'taken' });
      }
      return User.create(req.body);
    })
    .catch((err) => log(err))
    .then((user) => res.status(201).json(user));
});
`);
  const perItem = code(`
app.post('/import', (req, res) => {
  req.body.rows.forEach((row) => {
    if (!row.id) {
      return res.status(400).json({ row });
    }
  });
});
`);
  esm.run('if/else, switch fall-through, loops, try/catch, callbacks, .then chains', rule, {
    valid: [],
    invalid: [
      {
        code: ifElse,
        errors: [late('double-send', "res.send('c')", 7, "res.send('a')", 3, returnAt(ifElse, "res.send('a');"))],
      },
      { code: switchFall, errors: [late('double-send', "res.send('b')", 6, "res.send('a')", 4, returnAt(switchFall, "res.send('a');"))] },
      { code: loop, errors: [late('double-send', 'res.status(400).json(item)', 4, 'res.status(400).json(item)', 4, returnAt(loop, 'res.status(400).json(item);'))] },
      {
        code: whileLoop,
        errors: [late('late-status', 'res.status(500).end()', 3, 'res.status(500).end()', 3, returnAt(whileLoop, 'res.status(500).end();'))],
      },
      { code: answeredBeforeTry, errors: [late('double-send', 'res.status(500).json(…)', 6, 'res.json(…)', 2)] },
      { code: callback, errors: [late('double-send', 'res.send(data)', 6, "res.status(500).send('read failed')", 4, returnAt(callback, "res.status(500).send('read failed');"))] },
      { code: thenChain, errors: [late('double-send', 'res.status(201).json(user)', 10, "res.status(409).json(…)", 5)] },
      { code: perItem, errors: [late('double-send', 'res.status(400).json(…)', 4, 'res.status(400).json(…)', 4)] },
    ],
  });
});

describe('no-late-response: correct code stays silent', () => {
  esm.run('the idioms of correct code', rule, {
    valid: [
      // early return
      `app.get('/', (req, res) => { if (!req.user) return res.status(401).json({}); res.json(req.user); });`,
      // if/else
      `app.get('/', (req, res) => { if (req.query.a) { res.send('a'); } else { res.send('b'); } });`,
      // return next()
      `app.use((req, res, next) => { if (req.user) return next(); res.status(401).end(); });`,
      `app.use((req, res, next) => { if (bad) { next(new Error('bad')); return; } next(); });`,
      // write() many times, then end()
      `app.get('/', (req, res) => { res.write('a'); for (const x of xs) res.write(x); res.write('b'); res.end(); });`,
      // status and headers before answering
      `app.get('/', (req, res) => { res.status(201); res.set('x-a', '1'); res.setHeader('x-b', '2'); res.cookie('c', '3'); res.type('json'); res.json({}); });`,
      `http.createServer((req, res) => { res.statusCode = 200; res.setHeader('a', 'b'); res.writeHead(200); res.write('x'); res.end('y'); });`,
      // two handlers in a row
      `app.get('/', (req, res, next) => { req.a = 1; next(); }, (req, res) => { res.send('ok'); });`,
      // try { answer } catch { answer }
      `app.get('/', async (req, res) => { try { const u = await load(); res.json(u); } catch (err) { res.status(500).json({ error: err.message }); } });`,
      `app.get('/', async (req, res, next) => { try { res.json(await load()); await audit(); } catch (err) { next(err); } });`,
      // a finish listener
      `app.use((req, res, next) => { res.on('finish', () => { metrics(res.statusCode); }); next(); });`,
      `app.get('/', (req, res) => { res.once('finish', () => log(res.statusCode)); res.json({}); });`,
      // forEach that writes, find() that answers once (it stops at the first match)
      `app.get('/', (req, res) => { rows.forEach((row) => res.write(row)); res.end(); });`,
      `app.get('/', (req, res) => { rows.find((row) => row.bad && res.status(400).json(row)); });`,
      // a callback that answers once
      `app.get('/', (req, res, next) => { db.get(1, (err, row) => { if (err) return next(err); res.json(row); }); });`,
      `app.get('/', (req, res) => { load().then((row) => res.json(row)).catch((err) => res.status(500).json(err)); });`,
      // headersSent and writableEnded guards
      `app.use((err, req, res, next) => { if (res.headersSent) return next(err); res.status(500).json({}); });`,
      `app.get('/', (req, res) => { res.json({}); if (!res.writableEnded) res.end(); });`,
      `app.get('/', (req, res) => { if (a) res.json(1); if (!res.headersSent) res.json(2); });`,
      `fastify.get('/', (request, reply) => { if (a) reply.send(1); if (!reply.sent) reply.send(2); });`,
      `http.createServer((req, res) => { if (a) res.end('1'); if (res.writableFinished || res.finished) return; res.end('2'); });`,
      // switch with break, loop with return
      `app.get('/', (req, res) => { switch (k) { case 1: res.send('a'); break; default: res.send('b'); } });`,
      `app.post('/', (req, res) => { for (const i of req.body) { if (!i.ok) { res.status(400).json(i); return; } } res.json({}); });`,
      `app.post('/', (req, res) => { for (const i of req.body) { if (!i.ok) { res.status(400).json(i); break; } } });`,
      // render with a callback sends nothing itself
      `app.get('/', (req, res) => { res.render('page', (err, html) => { res.send(html); }); });`,
      // end() without data after an answer changes nothing
      `app.get('/', (req, res) => { res.json({}); res.end(); });`,
      // a helper that answers on some paths only is no answer
      `function maybe(res) { if (flag) res.json({}); } app.get('/', (req, res) => { maybe(res); res.json({}); });`,
      // Fastify: return reply, return reply.send(), await reply
      `fastify.get('/', async (request, reply) => { if (!x) return reply.code(404).send(); return { ok: true }; });`,
      `fastify.get('/', async (request, reply) => { reply.send({ ok: true }); return reply; });`,
      // a hook's returned value is not sent (only a route handler's is)
      `fastify.addHook('preHandler', async (request, reply) => { if (!request.user) { reply.code(401).send(); } return true; });`,
      `export default { preValidation: async (request, reply) => { if (bad) { reply.code(400).send({}); return false; } } };`,
      // someone else's (req, res): an LDAP server's search handler sends many entries
      `server.search('o=example', (req, res, next) => { res.send(a); res.send(b); res.end(); });`,
      // not a handler at all
      `function merge(a, b) { a.send(1); a.send(2); }`,
      `cache.get('key', (err, res) => { res.send(1); res.send(2); });`,
      // app.get(setting) is a getter, not a route
      `const env = app.get('env'); env.send(1); env.send(2);`,
    ],
    invalid: [],
  });

  cjs.run('CommonJS idioms', rule, {
    valid: [
      `module.exports = function (req, res, next) { if (!req.user) { return res.redirect('/login'); } next(); };`,
      `exports.list = async (req, res) => { const items = await Item.find(); res.json(items); };`,
    ],
    invalid: [],
  });
});

describe('no-late-response: TypeScript', () => {
  const nextTyped = code(`
import type { NextApiRequest, NextApiResponse } from 'next';
export default async function users(request: NextApiRequest, out: NextApiResponse<{ ok: boolean }>) {
  if (request.method !== 'GET') {
    out.status(405).json({ ok: false });
  }
  out.status(200).json({ ok: true });
}
`);
  const nest = code(`
import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
@Controller('cats')
export class CatsController {
  @Get()
  findAll(@Res() response: Response) {
    if (this.empty) {
      response.status(204).send();
    }
    response.json(this.cats);
  }
}
`);
  const filter = code(`
import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
@Catch()
export class AllFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost) {
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof Error) {
      response.status(400).json({ message: exception.message });
    }
    response.status(500).json({ message: 'internal' });
  }
}
`);
  const fastifyTyped = code(`
import type { FastifyReply, FastifyRequest } from 'fastify';
export async function show(q: FastifyRequest, r: FastifyReply) {
  const row = await find();
  if (!row) {
    r.code(404).send({ error: 'none' });
  }
  return row;
}
`);
  const expressTyped = code(`
import express, { type Request, type Response } from 'express';
export function handle(input: Request, output: Response): void {
  if (!input.body) output.status(400).end('no body');
  output!.status(200).json(input.body);
}
`);
  const qualified = code(`
import * as http from 'node:http';
export function serve(i: unknown, o: http.ServerResponse) {
  if (i) o.end('x');
  o.setHeader('a', 'b');
}
`);
  const qualifiedExpress = code(`
import express from 'express';
export function reply(input: unknown, out: express.Response) {
  if (input) out.json(1);
  out.json(2);
}
`);
  const nestNext = code(`
class M {
  use(req: unknown, @Res() r: unknown, @Next() n: () => void) {
    if (req) r.send('x');
    n();
  }
}
`);
  ts.run('Next.js, NestJS, Fastify and Express in TypeScript', rule, {
    valid: [
      // the fetch API's Response is not an HTTP response being answered
      `async function read(res: Response) { const a = await res.json(); return res.json(); }`,
      `import type { Response as R } from 'express'; function f(req: unknown, res: express.Response) { res.json(1); if (!res.headersSent) res.json(2); }`,
      `export default async function handler(req: NextApiRequest, res: NextApiResponse) { if (req.method !== 'GET') return res.status(405).end(); res.json({}); }`,
      `@Controller() class C { @Get() a(@Res() res: Response) { if (x) { return res.status(404).send(); } res.json({}); } }`,
      `import type { FastifyReply, FastifyRequest } from 'fastify'; export default { preValidation: async (request: FastifyRequest, reply: FastifyReply) => { if (bad) { reply.code(400).send({}); return false; } } };`,
    ],
    invalid: [
      { code: nextTyped, errors: [late('double-send', 'out.status(200).json(…)', 6, 'out.status(405).json(…)', 4, returnAt(nextTyped, 'out.status(405).json({ ok: false });'))] },
      { code: nest, errors: [late('double-send', 'response.json(…)', 10, 'response.status(204).send()', 8, returnAt(nest, 'response.status(204).send();'))] },
      { code: filter, errors: [late('double-send', 'response.status(500).json(…)', 10, 'response.status(400).json(…)', 8, returnAt(filter, 'response.status(400).json({ message: exception.message });'))] },
      { code: fastifyTyped, errors: [late('double-send', 'return …', 7, 'r.code(404).send(…)', 5, returnAt(fastifyTyped, "r.code(404).send({ error: 'none' });"))] },
      { code: qualified, errors: [late('late-header', 'o.setHeader(…)', 4, "o.end('x')", 3, returnAt(qualified, "o.end('x');"))] },
      { code: qualifiedExpress, errors: [late('double-send', 'out.json(2)', 4, 'out.json(1)', 3, returnAt(qualifiedExpress, 'out.json(1);'))] },
      { code: nestNext, errors: [late('next-after-send', 'n()', 4, "r.send('x')", 3, returnAt(nestNext, "r.send('x');"))] },
      { code: expressTyped, errors: [late('double-send', 'output.status(200).json(…)', 4, "output.status(400).end('no body')", 3, returnAt(expressTyped, "output.status(400).end('no body');"))] },
    ],
  });
});
