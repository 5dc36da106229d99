// vitest: the preload as a setup file; the run fails on any late response call.
//   npx vitest run --config examples/testing/vitest/vitest.config.mjs
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['examples/testing/vitest/*.test.mjs'],
    setupFiles: ['header-guard/register'],
  },
});
