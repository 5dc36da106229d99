// A correct page: rendered on each request, it sets a header before Next answers.
import type { GetServerSideProps } from 'next';

export const getServerSideProps: GetServerSideProps<{ at: string }> = async ({ res }) => {
  res.setHeader('Cache-Control', 'private, max-age=0');
  return { props: { at: 'login' } };
};

export default function Login({ at }: { at: string }) {
  return <p>{at}</p>;
}
