// Mutation testing of the modules that guard money and tenants: `pnpm test:mutation` (scripts/mutation.ts).
// Not part of `pnpm test`: it runs the guarding suites once per surviving candidate, which takes a while.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'pnpm',
  testRunner: 'jest',
  // named: with pnpm's layout Stryker's own plugin discovery does not see the runner
  plugins: ['@stryker-mutator/jest-runner'],
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  // In place: the workspace packages resolve through pnpm's node_modules links to the real folders, which a sandbox
  // copy would bypass (the tests would import the unmutated runtime). Stryker restores the mutated files when it
  // ends (also on SIGTERM); after a crash the originals are in .stryker-tmp/backup-*. Only the mutated files are
  // touched: swc does not type-check, so no `// @ts-nocheck` is needed anywhere else.
  inPlace: true,
  disableTypeChecks: false,
  // messages and log text are not rules
  mutator: { excludedMutations: ['StringLiteral'] },
  concurrency: 2,
  timeoutMS: 30000,
  // the module comes from the command line (scripts/mutation.ts passes --mutate for each of mutation.modules.js)
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: '.stryker-tmp/mutation.json' },
  tempDirName: '.stryker-tmp',
  thresholds: { high: 90, low: 75, break: null },
};
