import type { UsageCounterSpec } from '@tiergraph/runtime';

/**
 * max_products without scanning: the products that are not deleted, per (merchant, platform, store). A merchant's
 * usage is the sum over its stores' rows (a primary-key prefix read of a handful of rows); a store's is one row.
 * Kept by triggers on catalog.products (insert, soft delete, restore, delete), in the writing transaction.
 */
export const PRODUCT_COUNTS: UsageCounterSpec = {
  table: 'catalog.products',
  counter: 'catalog.product_counts',
  keys: [
    { column: 'merchant_id', type: 'uuid' },
    { column: 'platform_id', type: 'uuid' },
    { column: 'store_id', type: 'uuid' },
  ],
  counted: 'deleted_at IS NULL',
  amount: '1',
};

