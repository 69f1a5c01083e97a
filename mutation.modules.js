/**
 * What `pnpm test:mutation` mutates, module by module, and the suites that guard each: the modules that guard money
 * and tenants. Each module runs on its own (Stryker's per-test coverage then runs a mutant against only the tests of
 * that set that reach it), so a module's score says how well its own guards catch a broken rule.
 */
module.exports = {
  // limit enforcement (the plan's rules) and the entitlement cache (the mechanism)
  limits: {
    mutate: 'packages/plans/src/limits.ts',
    tests: ['packages/plans/src/limits.spec.ts', 'packages/plans/src/within-limit.spec.ts', 'subgraphs/catalog/src/__tests__/catalog.spec.ts'],
  },
  entitlements: {
    mutate: 'packages/runtime/src/entitlements.ts',
    tests: ['packages/runtime/src/entitlements.spec.ts', 'packages/plans/src/within-limit.spec.ts'],
  },
  // webhook mapping and ordering
  mapping: {
    mutate: 'subgraphs/billing/src/payments/webhooks/mapping.ts',
    tests: ['subgraphs/billing/src/payments/webhooks/mapping.spec.ts', 'subgraphs/billing/src/__tests__/webhooks.spec.ts'],
  },
  ordering: {
    mutate: 'subgraphs/billing/src/payments/webhooks/handlers/subscription-sync.ts',
    tests: ['subgraphs/billing/src/__tests__/webhooks.spec.ts'],
  },
  // authorisation and tenant checks
  auth: {
    mutate: 'packages/runtime/src/auth.ts',
    tests: ['packages/runtime/src/auth.spec.ts', 'subgraphs/billing/src/__tests__/admin.spec.ts', 'subgraphs/billing/src/__tests__/entities-access.spec.ts'],
  },
  representations: {
    mutate: 'packages/runtime/src/representations.ts',
    tests: [
      'packages/runtime/src/representations.spec.ts',
      'subgraphs/billing/src/__tests__/entities-access.spec.ts',
      'subgraphs/catalog/src/__tests__/entities.spec.ts',
      'subgraphs/orders/src/__tests__/entities.spec.ts',
      'subgraphs/media/src/__tests__/entities.spec.ts',
    ],
  },
};
