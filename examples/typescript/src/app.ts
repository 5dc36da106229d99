// A TypeScript app compiled by tsc with source maps: reports name the .ts lines you wrote.
//   npm run build && npx tsc -p examples/typescript && node --enable-source-maps examples/typescript/dist/app.js
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { headerGuard } from 'header-guard';
import { loadUser } from './users.js';

const app = express();
app.use(headerGuard());

app.get('/users/:id', async (req: Request, res: Response) => {
  const user = await loadUser(String(req.params.id));
  if (user === undefined) {
    res.status(404).json({ error: 'no such user' }); // missing `return`
  }
  res.json(user);
});

const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/users/42`);
  console.log(`client got: ${response.status} ${await response.text()}`);
  setTimeout(() => server.close(), 50);
});
