import type { NextApiRequest, NextApiResponse } from 'next';

// A header set by work that finishes after the answer went out: the client never sees it.
export default function handler(_req: NextApiRequest, res: NextApiResponse): void {
  res.json({ cached: false });
  void Promise.resolve().then(() => {
    res.setHeader('Cache-Control', 'max-age=60');
  });
}
