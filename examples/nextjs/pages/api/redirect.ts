import type { NextApiRequest, NextApiResponse } from 'next';

// A redirect for anonymous users, without `return`: the handler then answers again.
export default function handler(req: NextApiRequest, res: NextApiResponse): void {
  if (req.headers.authorization === undefined) {
    res.redirect(307, '/login');
  }
  res.send('welcome');
}
