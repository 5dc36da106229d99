// How deep the first send is captured: behind a framework's per-response helpers (a dozen frames,
// as Next.js's API helpers have), the first-send site still names the app's own line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { headerGuard } from '../src/index.js';
import { installReply, type ReplyResponse } from './fixtures/per-response/helpers.js';
import { collector, markerLine, offendingOf, requestApp, settle, waitFor } from './helpers.js';

describe('capture depth', () => {
  it('a first send made through a dozen frames of per-response helpers names the app\'s line', async () => {
    const { violations, onViolation } = collector();
    const app = express();
    app.use(headerGuard({ onViolation, capture: 'always', ignore: ['fixtures/per-response/'] }));
    app.use(installReply);
    app.get('/item', (req, res) => {
      const reply = res as ReplyResponse;
      if (req.query.id === undefined) reply.reply({ error: 'id is required' }); // @depth:first
      reply.reply({ id: req.query.id }); // @depth:late
    });
    const answer = await requestApp(app, '/item');
    assert.equal(answer.body, '{"error":"id is required"}');
    await waitFor(() => violations.length > 0, 1000, 'a violation');
    await settle(20);
    assert.equal(violations.length, 1);
    const violation = violations[0]!;
    assert.equal(offendingOf(violation)?.file, __filename);
    assert.equal(offendingOf(violation)?.line, markerLine(__filename, 'depth:late'));
    assert.equal(violation.firstSent?.file, __filename);
    assert.equal(violation.firstSent?.line, markerLine(__filename, 'depth:first'));
  });
});
