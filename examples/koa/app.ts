// header-guard/koa: a Koa 3 app whose handler answers, then sets the status and a header from a
// promise nobody awaited (koa#1137). Koa ignores both silently; the guard names both lines.
// Run: npm run build && node --import tsx examples/koa/app.ts
import Koa from 'koa';
import { koaHeaderGuard } from 'header-guard/koa';

const app = new Koa();
app.use(koaHeaderGuard());

/** Pretend to save an audit record: resolves after the response went out. */
const audit = () => new Promise((resolve) => setTimeout(resolve, 5));

app.use((ctx) => {
  ctx.body = { id: 1, name: 'Ada' };
  void audit().then(() => {
    ctx.status = 201; // too late: the client already got 200
    ctx.set('X-Audit', 'saved');
  });
});

const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address() as { port: number };
  const response = await fetch(`http://127.0.0.1:${port}/users`);
  console.log(`client got ${response.status} ${await response.text()}`);
  setTimeout(() => server.close(), 50);
});
