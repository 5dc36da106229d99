import type { NextApiRequest, NextApiResponse } from 'next';

// Correct: every answer returns, headers are set before the answer.
export default function handler(req: NextApiRequest, res: NextApiResponse): void {
  if (req.query.fail !== undefined) {
    res.status(400).json({ error: 'failing on request' });
    return;
  }
  res.setHeader('Cache-Control', 'no-store');
  res.status(200).json({ ok: true });
}
