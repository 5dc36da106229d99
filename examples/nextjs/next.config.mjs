// Optional: Node loads header-guard from node_modules instead of Next.js bundling it into the
// instrumentation chunk (both work): one copy for the whole process, shared with a preload.
/** @type {import('next').NextConfig} */
const config = {
  serverExternalPackages: ['header-guard'],
};
export default config;
