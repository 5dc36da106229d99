// Next.js loads this file once per server process, before it serves anything, and calls
// register(). The guard is for the Node.js runtime only: the dynamic import behind the check
// keeps it out of the Edge runtime's bundle, which has no node:http responses to guard.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { guardNext } = await import('header-guard/next');
    // Log mode (the default). `capture: 'always'` names the first send in every report; the
    // production default ('adaptive') names it from a route's second report on, for less work
    // per response.
    guardNext({ capture: 'always' });
  }
}
