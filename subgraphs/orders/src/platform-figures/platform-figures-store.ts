import type { DataSource } from 'typeorm';

/** Orders' platform-wide counts. */
export class OrdersPlatformFiguresStore {
  constructor(private readonly db: DataSource) {}

  /** Orders of every store created at or after `since` (orders_merchant_created_idx does not lead with created_at: a scan, once a day). */
  async ordersCreatedSince(since: Date): Promise<number> {
    const [row]: Array<{ n: number }> = await this.db.query(`SELECT count(*)::int AS n FROM orders.orders WHERE created_at >= $1`, [since]);
    return row.n;
  }
}
