/**
 * The jest run that `pnpm test:mutation` mutates against: the guarding suites of one module of
 * mutation.modules.js, named by TIERGRAPH_MUTATION_MODULE (scripts/mutation.ts sets it for each module it runs).
 * @type {import('jest').Config}
 */
const base = require('./jest.config');
const modules = require('./mutation.modules');

const name = process.env.TIERGRAPH_MUTATION_MODULE;
const module_ = modules[name];
if (!module_) throw new Error(`TIERGRAPH_MUTATION_MODULE must be one of ${Object.keys(modules).join(', ')} (got ${name})`);

// a quicker, narrower look: TIERGRAPH_MUTATION_TESTS=path,path (e.g. only a module's unit tests)
const tests = process.env.TIERGRAPH_MUTATION_TESTS ? process.env.TIERGRAPH_MUTATION_TESTS.split(',') : module_.tests;

module.exports = {
  ...base,
  reporters: ['default'],
  testMatch: tests.map((test) => `<rootDir>/${test.trim()}`),
};
