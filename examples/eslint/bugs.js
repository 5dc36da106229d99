// The classic late-response bugs, one per handler. `npx eslint .` in this folder reports each
// late call with the line of the call that answered first; fixed.js is the same file, fixed.
import express from 'express';

const app = express();

// A missing return after the 404: the second answer throws ERR_HTTP_HEADERS_SENT.
app.get('/users/:id', async (req, res) => {
  const user = await findUser(req.params.id);
  if (!user) {
    res.status(404).json({ error: 'not found' });
  }
  res.json(user);
});

// next(err) without return: the handler goes on and redirects a request Express already passed on.
app.post('/login', (req, res, next) => {
  if (!req.body.name) {
    next(new Error('name required'));
  }
  res.redirect('/home');
});

// An answer inside a loop without break or return: the second invalid item answers again.
app.post('/batch', (req, res) => {
  for (const item of req.body.items) {
    if (!item.id) {
      res.status(400).json({ error: 'id required', item });
    }
  }
  res.sendStatus(204);
});

// A callback that answers, then answers again.
app.get('/file', (req, res) => {
  readConfig((err, config) => {
    if (err) {
      res.status(500).send('cannot read');
    }
    res.send(config);
  });
});

// A header set after the body went out: Node throws "Cannot set headers after they are sent".
app.get('/cached', (req, res) => {
  res.send(render());
  res.set('Cache-Control', 'max-age=60');
});

// A middleware that answers and still calls next().
app.use((req, res, next) => {
  if (req.headers['x-maintenance']) {
    res.status(503).send('maintenance');
  }
  next();
});

// A helper that always answers is an answer too.
function sendError(res, status, message) {
  res.status(status).json({ error: message });
}

app.delete('/items/:id', (req, res) => {
  if (!req.user) sendError(res, 401, 'login first');
  res.json({ deleted: req.params.id });
});

export { app };

/** Stand-ins for the app's own data layer. */
async function findUser(id) {
  return id === '1' ? { id } : undefined;
}
function readConfig(callback) {
  callback(null, '{}');
}
function render() {
  return '<p>hello</p>';
}
