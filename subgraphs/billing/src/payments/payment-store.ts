import DataLoader from 'dataloader';
import { findByKeys, findGroupedByPairs, groupUnder, loaderQuery, merchantPlatformKey, storeOfMerchantKey, type MerchantPlatform, type StoreOfMerchant } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { AddOnProductEntity, BillingHistoryEntity, StoreAddOnEntity } from '../database/entities';


/** The SQL of what Stripe bills: Stripe customers, add-ons and invoices. */
export class PaymentStore {
  constructor(private readonly db: DataSource) {}

  addOnProducts(): Promise<AddOnProductEntity[]> {
    return this.db.getRepository(AddOnProductEntity).find({ where: { isActive: true }, order: { displayOrder: 'ASC' } });
  }

  /** A store's add-ons by store AND merchant, so a representation naming another merchant's store finds nothing. */
  async addOnsOfStores(keys: readonly StoreOfMerchant[]): Promise<StoreAddOnEntity[][]> {
    const rows = await this.db
      .getRepository(StoreAddOnEntity)
      .createQueryBuilder('a')
      .where(`(a.store_id, a.merchant_id) IN (SELECT * FROM unnest(:stores::uuid[], :merchants::uuid[]))`, {
        stores: keys.map((k) => k.storeId),
        merchants: keys.map((k) => k.merchantId),
      })
      .orderBy('a.created_at')
      .getMany();
    return groupUnder(keys.map(storeOfMerchantKey), rows, storeOfMerchantKey);
  }

  invoicesOf(pairs: readonly MerchantPlatform[]): Promise<BillingHistoryEntity[][]> {
    return findGroupedByPairs(this.db, BillingHistoryEntity, pairs, [['e.created_at', 'DESC']]);
  }

  async stripeCustomerOf(merchantId: string): Promise<string | null> {
    const [customer] = await this.stripeCustomersOf([merchantId]);
    return customer;
  }

  /** The Stripe customers of many merchants in one statement, in the order of `merchantIds` (null: none yet). */
  async stripeCustomersOf(merchantIds: readonly string[]): Promise<(string | null)[]> {
    const rows = await loaderQuery<{ merchant_id: string; stripe_customer_id: string }>(
      this.db,
      `SELECT merchant_id, stripe_customer_id FROM billing.stripe_customers WHERE merchant_id = ANY($1::uuid[])`,
      [[...merchantIds]],
    );
    const byMerchant = new Map(rows.map((r) => [r.merchant_id, r.stripe_customer_id]));
    return merchantIds.map((id) => byMerchant.get(id.toLowerCase()) ?? null);
  }

  /** Keeps the first customer recorded for a merchant (racing checkouts get the same one back). */
  async saveStripeCustomer(merchantId: string, customerId: string): Promise<string> {
    const [row] = await this.db.query(
      `WITH inserted AS (
         INSERT INTO billing.stripe_customers (merchant_id, stripe_customer_id) VALUES ($1, $2)
         ON CONFLICT (merchant_id) DO NOTHING RETURNING stripe_customer_id)
       SELECT stripe_customer_id FROM inserted
       UNION ALL SELECT stripe_customer_id FROM billing.stripe_customers WHERE merchant_id = $1
       LIMIT 1`,
      [merchantId, customerId],
    );
    return row.stripe_customer_id;
  }

  addOnProductsByCodes(codes: readonly string[]) {
    return findByKeys(this.db, AddOnProductEntity, 'code', codes);
  }

  storeAddOnsByIds(ids: readonly string[]) {
    return findByKeys(this.db, StoreAddOnEntity, 'id', ids);
  }

  async cancelStoreAddOn(id: string): Promise<StoreAddOnEntity> {
    await this.db.query(`UPDATE billing.store_add_ons SET status = 'cancelled' WHERE id = $1`, [id]);
    return (await this.db.getRepository(StoreAddOnEntity).findOneBy({ id }))!;
  }

  /** Per-request batching: one statement per kind of read. */
  createLoaders() {
    return {
      addOnsOfStore: new DataLoader((keys: readonly StoreOfMerchant[]) => this.addOnsOfStores(keys), { cacheKeyFn: storeOfMerchantKey }),
      addOnProductByCode: new DataLoader((codes: readonly string[]) => this.addOnProductsByCodes(codes)),
      invoicesOf: new DataLoader((pairs: readonly MerchantPlatform[]) => this.invoicesOf(pairs), { cacheKeyFn: merchantPlatformKey }),
      stripeCustomerOf: new DataLoader((merchantIds: readonly string[]) => this.stripeCustomersOf(merchantIds)),
    };
  }
}

export type PaymentLoaders = ReturnType<PaymentStore['createLoaders']>;
