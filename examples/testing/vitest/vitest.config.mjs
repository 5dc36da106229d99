// vitest: header-guard/vitest as a setup file; each test fails on its own late response calls.
//   npx vitest run --config examples/testing/vitest/vitest.config.mjs
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['examples/testing/vitest/*.test.mjs'],
    setupFiles: ['header-guard/vitest'],
  },
});
