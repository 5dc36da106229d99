// header-guard around a plain node:http handler: `guard(req, res, () => handler(req, res))`.
//   node --import tsx examples/plain-http/server.ts
// The handler answers, then a timer sets a header: in Node that throws where nothing catches it,
// and the process dies. In log mode the guard only observes: it writes the report naming both
// lines, and then Node throws as it always does. With `contain: true`, that one throw is
// contained: the report is written and the server keeps serving.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { headerGuard } from 'header-guard';

const guard = headerGuard({ contain: true });

function handler(req: http.IncomingMessage, res: http.ServerResponse) {
  res.setHeader('content-type', 'text/plain');
  res.end('hello\n');
  setTimeout(() => res.setHeader('x-cache', 'miss'), 10); // too late: the response is out
}

const server = http.createServer((req, res) => guard(req, res, () => handler(req, res)));
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address() as AddressInfo;
  for (let i = 0; i < 2; i++) console.log(`client got: ${await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())}`.trim());
  setTimeout(() => {
    console.log('server still up');
    server.close();
  }, 50);
});
