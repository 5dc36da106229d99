// getServerSideProps sends anonymous visitors to /login, and refreshes a cookie without
// awaiting it: the header is set after Next.js sent the redirect, and the client never gets it.
import type { GetServerSideProps } from 'next';

/** Stands for a session store: answers a little later. */
function refreshSession(): Promise<string> {
  return new Promise((resolve) => setTimeout(() => resolve('renewed'), 5));
}

export const getServerSideProps: GetServerSideProps = async ({ req, res }) => {
  if (req.headers.cookie === undefined) {
    void refreshSession().then((token) => {
      res.setHeader('Set-Cookie', `session=${token}; HttpOnly`);
    });
    return { redirect: { destination: '/login', permanent: false } };
  }
  return { props: {} };
};

export default function Account() {
  return <p>account</p>;
}
