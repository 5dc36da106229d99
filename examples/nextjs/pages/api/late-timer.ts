import type { NextApiRequest, NextApiResponse } from 'next';

// The same from a timer: the header comes long after the answer.
export default function handler(_req: NextApiRequest, res: NextApiResponse): void {
  res.json({ ok: true });
  setTimeout(() => {
    res.setHeader('X-Took', '5');
  }, 5);
}
