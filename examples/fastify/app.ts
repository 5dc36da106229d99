// header-guard/fastify on a small Fastify 5 app: a missing `return reply` and a late status,
// each reported with the late line and the line that answered. Run:
//   npm run build && node --import tsx examples/fastify/app.ts
import Fastify from 'fastify';
import headerGuardPlugin from 'header-guard/fastify';

function requireUser(request: { headers: Record<string, unknown> }, reply: { code(status: number): { send(body: unknown): unknown } }): void {
  if (request.headers['x-user'] === undefined) reply.code(401).send({ error: 'login first' });
}

async function main(): Promise<void> {
  const app = Fastify();
  await app.register(headerGuardPlugin, { capture: 'always' });

  app.get('/profile', async (request, reply) => {
    requireUser(request, reply); // forgot: `if (reply.sent) return reply`
    return { name: 'Ada' };
  });

  app.get('/export', (_request, reply) => {
    reply.send({ started: true });
    setTimeout(() => reply.code(500), 5); // the client already has its 200
  });

  for (const url of ['/profile', '/export']) {
    const response = await app.inject(url);
    console.log(`client: ${url} -> ${response.statusCode} ${response.body}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  await app.close();
}

void main();
