// The demo: an Express app with the most common bug behind "Cannot set headers after they are
// sent to the client" -- a missing `return` after answering -- hidden inside a shared helper.
// Run it with `npm run demo`: it starts the app, sends one request, and prints the guard's report.
import express from 'express';
import { headerGuard } from 'header-guard';

const app = express();
app.use(headerGuard());

/** Answer with an error; callers are supposed to `return` after calling it. */
function fail(res: express.Response, status: number, message: string) {
  res.status(status).json({ error: message });
}

app.get('/users/:id', (req, res) => {
  if (!/^\d+$/.test(req.params.id)) {
    fail(res, 400, 'id must be a number'); // the bug: no `return` here...
  }
  res.json({ id: Number(req.params.id), name: 'Ada' }); // ...so this runs too
});

const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address() as import('node:net').AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/users/abc?token=not-printed`);
  console.log(`client got: ${response.status} ${await response.text()}\n`);
  // The guard's report went to stderr above or below; give late output a moment, then stop.
  setTimeout(() => server.close(), 50);
});
