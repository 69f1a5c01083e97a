import type { DataSource } from 'typeorm';
import { ORDER_COUNTS, ordersInPeriodsSql } from '../store/counters';

/** Orders' platform-wide counts. */
export class OrdersPlatformFiguresStore {
  constructor(private readonly db: DataSource) {}

  /**
   * Orders of every store created at or after `since`: the sum over every merchant and platform with orders since
   * that UTC day of max_orders_per_month's own count over [since, ∞) (ordersInPeriodsSql: whole days from
   * orders.order_counts, the partial first day from the orders by index), not a scan of every order.
   */
  async ordersCreatedSince(since: Date): Promise<number> {
    const keys = `(SELECT DISTINCT merchant_id, platform_id, $1::timestamptz AS period_start, 'infinity'::timestamptz AS period_end
                     FROM ${ORDER_COUNTS.counter}
                    WHERE day >= ($1::timestamptz AT TIME ZONE 'UTC')::date AND n <> 0) k`;
    const [row]: Array<{ n: number }> = await this.db.query(`SELECT coalesce(sum(x.n), 0)::int AS n FROM (${ordersInPeriodsSql(keys)}) x`, [since]);
    return row.n;
  }
}
