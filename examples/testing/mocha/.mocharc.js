// mocha: header-guard/mocha as a root hook plugin. In an app, the line is
//   require: ['header-guard/mocha']        (or `mocha --require header-guard/mocha`)
// Here, inside header-guard's own repository, mocha would look for the package in its own
// node_modules: resolve it from this file instead.
module.exports = {
  require: [require.resolve('header-guard/mocha')],
  spec: ['examples/testing/mocha/users.spec.js', 'examples/testing/mocha/health.spec.js'],
};
