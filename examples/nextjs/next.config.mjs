// header-guard is loaded by Node from node_modules, not bundled into the server: one copy for
// the whole process, shared with the preload if there is one.
/** @type {import('next').NextConfig} */
const config = {
  serverExternalPackages: ['header-guard'],
};
export default config;
