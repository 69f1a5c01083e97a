/**
 * The jest run that `pnpm test:mutation` mutates against: the suites that guard money and tenants. Stryker runs
 * it once with per-test coverage, then each mutant against only the tests that reach it.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  reporters: ['default'],
  testMatch: [
    // limit enforcement and entitlements
    '<rootDir>/packages/runtime/src/entitlements.spec.ts',
    '<rootDir>/packages/runtime/src/*limit*.spec.ts',
    '<rootDir>/subgraphs/catalog/src/__tests__/catalog.spec.ts',
    '<rootDir>/subgraphs/orders/src/__tests__/orders.spec.ts',
    '<rootDir>/subgraphs/tenancy/src/__tests__/tenancy.spec.ts',
    // webhook mapping and ordering
    '<rootDir>/subgraphs/billing/src/webhooks/mapping.spec.ts',
    '<rootDir>/subgraphs/billing/src/__tests__/webhooks.spec.ts',
    // authorisation and tenant checks
    '<rootDir>/packages/runtime/src/auth.spec.ts',
    '<rootDir>/subgraphs/billing/src/__tests__/admin.spec.ts',
    '<rootDir>/subgraphs/*/src/__tests__/entities.spec.ts',
  ],
};
