import type { UsageCounterSpec } from '@tiergraph/runtime';

/**
 * max_team_members without scanning: the active MEMBERs per (merchant, platform) — the feature's scope is MERCHANT,
 * so one row per pair is the key look-up. Kept by triggers on tenancy.store_users (add, deactivate, role or
 * activity changes, deletes) in the writing transaction. A store's activity does not change what is counted.
 */
export const TEAM_MEMBER_COUNTS: UsageCounterSpec = {
  table: 'tenancy.store_users',
  counter: 'tenancy.team_member_counts',
  keys: [
    { column: 'merchant_id', type: 'uuid' },
    { column: 'platform_id', type: 'uuid' },
  ],
  counted: "is_active AND role = 'MEMBER'",
  amount: '1',
};

