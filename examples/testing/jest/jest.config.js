// jest: the preload as a setup file; the run fails on any late response call.
//   npx jest --config examples/testing/jest/jest.config.js
module.exports = {
  rootDir: '../../..',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/examples/testing/jest/*.test.js'],
  setupFiles: ['header-guard/register'],
};
