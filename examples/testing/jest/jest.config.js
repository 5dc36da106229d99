// jest: header-guard/jest as a setup file; each test fails on its own late response calls.
//   npx jest --config examples/testing/jest/jest.config.js
module.exports = {
  rootDir: '../../..',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/examples/testing/jest/*.test.js'],
  setupFilesAfterEnv: ['header-guard/jest'],
};
