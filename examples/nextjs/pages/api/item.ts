import type { NextApiRequest, NextApiResponse } from 'next';

// The classic bug: no `return` after answering an invalid request, so the handler answers twice.
export default function handler(req: NextApiRequest, res: NextApiResponse): void {
  if (typeof req.query.id !== 'string' || !/^\d+$/.test(req.query.id)) {
    res.status(400).json({ error: 'id must be a number' });
  }
  res.status(200).json({ id: Number(req.query.id), name: 'Ada' });
}
