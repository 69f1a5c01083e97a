import DataLoader from 'dataloader';
import { insertWithinLimit } from '@tiergraph/plans';
import { findByKeys, findGroupedByKeys, isUuid, loaderQuery, type MerchantPlatform } from '@tiergraph/runtime';
import type { DataSource, EntityManager } from 'typeorm';
import { MAX_ORDERS_PER_MONTH } from '../features';
import { ordersInPeriodsSql } from './counters';
import { OrderEntity, OrderItemEntity } from './entities';

/** The orders of a merchant on a platform created in [periodStart, periodEnd) (ISO 8601 instants). */
export interface PeriodKey extends MerchantPlatform {
  periodStart: string;
  periodEnd: string;
}

export interface NewOrder extends MerchantPlatform {
  storeId: string;
  totalCents: number;
  currency: string;
  customerEmail: string | null;
}

export interface NewOrderItem {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

/** Owns orders' SQL. Every read that a resolver can fan out over is one statement per batch. */
export class OrdersStore {
  constructor(private readonly db: DataSource) {}

  /** Orders by id, in the order asked, null where unknown: one statement however many ids. */
  ordersByIds(ids: readonly string[]): Promise<(OrderEntity | null)[]> {
    return findByKeys(this.db, OrderEntity, 'id', ids);
  }

  /** The items of many orders, each in the order it was placed. */
  itemsOfOrders(orderIds: readonly string[]): Promise<OrderItemEntity[][]> {
    return findGroupedByKeys(this.db, OrderItemEntity, { column: 'order_id', property: 'orderId' }, orderIds, [
      ['e.order_id', 'ASC'],
      ['e.position', 'ASC'],
      ['e.id', 'ASC'],
    ]);
  }

  /** max_orders_per_month usage: orders per (merchant, platform) inside each key's period, one statement per batch. */
  async orderCountsInPeriods(keys: readonly PeriodKey[], db: DataSource | EntityManager = this.db): Promise<number[]> {
    const asked = keys.flatMap((k, index) => (isUuid(k.merchantId) && isUuid(k.platformId) ? [{ ...k, index }] : []));
    const counts = keys.map(() => 0);
    if (!asked.length) return counts;
    const rows = await loaderQuery<{ key: number; n: number }>(
      db,
      // whole days from the counter rows, the partial first and last day from the orders (see ordersInPeriodsSql)
      ordersInPeriodsSql(`unnest($1::int[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::timestamptz[]) AS k(key, merchant_id, platform_id, period_start, period_end)`),
      [
        asked.map((k) => k.index),
        asked.map((k) => k.merchantId),
        asked.map((k) => k.platformId),
        asked.map((k) => k.periodStart),
        asked.map((k) => k.periodEnd),
      ],
    );
    for (const row of rows) counts[row.key] = row.n;
    return counts;
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      order: new DataLoader((ids: readonly string[]) => this.ordersByIds(ids)),
      itemsOfOrder: new DataLoader((ids: readonly string[]) => this.itemsOfOrders(ids)),
      orderCountInPeriod: new DataLoader((keys: readonly PeriodKey[]) => this.orderCountsInPeriods(keys), {
        cacheKeyFn: (k) => JSON.stringify([k.merchantId, k.platformId, k.periodStart, k.periodEnd]),
      }),
    };
  }

  // ───────────── writes ─────────────

  /**
   * Inserts an order and its items within max_orders_per_month (`limit`, null: unlimited) of the period billing
   * names, in one transaction: the merchant's lock on the feature, the count under it, the insert.
   */
  insertOrderWithinLimit(
    limit: number | null,
    period: { start: string | null; end: string | null },
    order: NewOrder,
    items: NewOrderItem[],
  ): Promise<{ order: OrderEntity; items: OrderItemEntity[] }> {
    return insertWithinLimit(this.db, {
      featureCode: MAX_ORDERS_PER_MONTH,
      pair: order,
      limit,
      measure: async (manager) => ({ used: await this.countOrdersInPeriod(manager, order, period.start, period.end) }),
      insert: (manager) => this.insertOrder(manager, order, items),
    });
  }

  /**
   * What max_orders_per_month counts, inside the caller's transaction: orderCountsInPeriods' read of the merchant's
   * orders on the platform created in [periodStart, periodEnd) (an open bound when billing names none), from the
   * day counters that orders' triggers keep in the writing transaction plus the partial first and last day.
   */
  async countOrdersInPeriod(manager: EntityManager, key: MerchantPlatform, periodStart: string | null, periodEnd: string | null): Promise<number> {
    const [n] = await this.orderCountsInPeriods(
      [{ merchantId: key.merchantId, platformId: key.platformId, periodStart: periodStart ?? '-infinity', periodEnd: periodEnd ?? 'infinity' }],
      manager,
    );
    return n;
  }

  /** The order and its items, in the caller's transaction. */
  async insertOrder(manager: EntityManager, order: NewOrder, items: NewOrderItem[]): Promise<{ order: OrderEntity; items: OrderItemEntity[] }> {
    const orders = manager.getRepository(OrderEntity);
    const saved = await orders.save(orders.create({ ...order, status: 'PENDING' }));
    const itemRepo = manager.getRepository(OrderItemEntity);
    const savedItems = await itemRepo.save(items.map((item, position) => itemRepo.create({ ...item, orderId: saved.id, position })));
    return { order: saved, items: savedItems };
  }
}

export type OrdersLoaders = ReturnType<OrdersStore['createLoaders']>;
