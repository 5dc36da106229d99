// header-guard in production: structured logs through pino, telemetry through the OpenTelemetry
// API (a span event and a counter per violation), and stats() on an endpoint.
//   NODE_ENV=production node --import tsx examples/production/app.ts
// With NODE_ENV=production the guard's defaults are: log mode, adaptive capture (no stack
// capture until a route has a violation), the same violation reported once a minute.
// Register your OpenTelemetry SDK before this file runs; without one the API calls do nothing.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { AddressInfo } from 'node:net';
import { metrics, trace } from '@opentelemetry/api';
import express from 'express';
import pino from 'pino';
import { formatCallSite, headerGuard, stats, type Violation } from 'header-guard';

const logger = pino({ base: undefined });
const violations = metrics.getMeter('header-guard-example').createCounter('header_guard.violations', {
  description: 'Late or conflicting calls on HTTP responses, by kind and route',
});

// Every violation is published on this channel, including those the log dedupes.
diagnosticsChannel.subscribe('header-guard:violation', (message) => {
  const { violation } = message as { violation: Violation };
  const attributes = { 'header_guard.kind': violation.kind, 'http.route': violation.route ?? 'unmatched' };
  violations.add(1, attributes);
  trace.getActiveSpan()?.addEvent('header-guard.violation', {
    ...attributes,
    'header_guard.code': violation.code,
    'header_guard.call': violation.call,
    // Every kind but hang names a late call's site (narrowed by `in`); a hang names its last progress.
    'code.location': 'offending' in violation && violation.offending !== undefined ? formatCallSite(violation.offending) : 'unknown',
  });
});

const app = express();
app.use(
  headerGuard({
    // Structured: one JSON line per report, with both sites as fields.
    onViolation: (violation) =>
      logger.warn(
        {
          kind: violation.kind,
          code: violation.code,
          call: violation.call,
          method: violation.method,
          route: violation.route,
          offending: 'offending' in violation && violation.offending !== undefined ? formatCallSite(violation.offending) : undefined,
          firstSent: violation.firstSent && formatCallSite(violation.firstSent),
          firstSentCall: violation.firstSentCall,
          repeated: violation.repeated,
        },
        'header-guard violation',
      ),
  }),
);

app.get('/orders/:id', (req, res) => {
  res.json({ id: req.params.id });
  res.status(500); // a late status: Node accepts it silently, and access logs would lie
});
app.get('/stats', (req, res) => {
  res.json(stats());
});

const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address() as AddressInfo;
  for (let id = 1; id <= 3; id++) await fetch(`http://127.0.0.1:${port}/orders/${id}`).then((r) => r.text());
  console.log(`stats: ${await fetch(`http://127.0.0.1:${port}/stats`).then((r) => r.text())}`);
  server.close();
});
