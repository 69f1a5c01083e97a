import type { UsageCounterSpec } from '@tiergraph/runtime';

/**
 * max_orders_per_month without scanning: the orders per (merchant, platform, UTC day of created_at). Billing owns
 * the period (handed over through @requires / the entitlements) and its bounds are arbitrary instants, so the
 * counter is keyed by day, not by period: a period's count is the sum of its whole days' rows plus the orders of
 * the partial first and last day (two short index range scans), exact for any bounds. A period roll then needs no
 * counter write at all (the next period sums other days), nor does a period that billing moves or shortens.
 * Kept by triggers on orders.orders in the writing transaction.
 */
export const ORDER_COUNTS: UsageCounterSpec = {
  table: 'orders.orders',
  counter: 'orders.order_counts',
  keys: [
    { column: 'merchant_id', type: 'uuid' },
    { column: 'platform_id', type: 'uuid' },
    { column: 'day', type: 'date', of: `(created_at AT TIME ZONE 'UTC')::date` },
  ],
  counted: 'true',
  amount: '1',
};

/**
 * The orders of each row of `keys` (a FROM item with merchant_id, platform_id, period_start, period_end; other
 * columns pass through as `k.*`) created in [period_start, period_end): `SELECT k.*, n`. Whole UTC days come from
 * orders.order_counts; the partial days at either end from the orders (index on merchant, platform, created_at);
 * a period inside one day is counted from the orders alone. Open bounds (±infinity) sum every day.
 */
export function ordersInPeriodsSql(keys: string): string {
  const orders = (from: string, to: string) =>
    `(SELECT count(*) FROM orders.orders o WHERE o.merchant_id = k.merchant_id AND o.platform_id = k.platform_id AND o.created_at >= ${from} AND o.created_at < ${to})`;
  return `SELECT k.*,
            (CASE WHEN b.first_day < b.last_day THEN
               coalesce((SELECT sum(c.n) FROM orders.order_counts c
                          WHERE c.merchant_id = k.merchant_id AND c.platform_id = k.platform_id
                            AND c.day >= (b.first_day AT TIME ZONE 'UTC')::date AND c.day < (b.last_day AT TIME ZONE 'UTC')::date), 0)
               + ${orders('k.period_start', 'b.first_day')} + ${orders('b.last_day', 'k.period_end')}
             ELSE ${orders('k.period_start', 'k.period_end')} END)::int AS n
       FROM ${keys}
       CROSS JOIN LATERAL (
         SELECT CASE WHEN s.midnight = k.period_start THEN s.midnight ELSE s.midnight + interval '1 day' END AS first_day,
                date_trunc('day', k.period_end AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS last_day
           FROM (SELECT date_trunc('day', k.period_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS midnight) s
       ) b`;
}

