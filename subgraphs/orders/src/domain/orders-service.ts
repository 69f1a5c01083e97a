import { limitForCreating } from '@tiergraph/plans';
import {
  assertCanReadMerchant,
  BadUserInputError,
  isUuid,
  parseInput,
  readableStoreRow,
  verifiedStore,
  writableStore,
  type Caller,
  type EntitlementSource,
  type FeatureUsage,
  type MerchantPlatformReference,
  type StoreDirectory,
  type StoreRef,
  type StoreReference,
} from '@tiergraph/runtime';
import type { CatalogClient, CatalogProduct } from '../clients/catalog-client';
import type { OrderEntity, OrderItemEntity } from '../store/entities';
import type { NewOrderItem, OrdersLoaders, OrdersStore } from '../store/orders-store';
import { MAX_ORDERS_PER_MONTH } from '../features';
import { placeOrderInput } from './validation';

/** The largest total an order can hold (a PostgreSQL integer, like GraphQL's Int). */
const MAX_TOTAL_CENTS = 2_147_483_647;

/**
 * A Store as the graph hands it to orders: its key, plus tenancy's ids and billing's subscription (its current
 * period; null without one) where ordersUsage @requires them.
 */
export type StoreRepresentation = StoreReference & {
  subscription?: { currentPeriodStart?: Date | string; currentPeriodEnd?: Date | string } | null;
};

/** A MerchantSubscription as the graph hands it to orders: its key, plus billing's period where ordersUsage @requires it. */
export type SubscriptionRepresentation = MerchantPlatformReference;

export interface OrderItemResult {
  product: { id: string };
  quantity: number;
  unitPriceCents: number;
}

export interface OrdersServiceDependencies {
  store: OrdersStore;
  loaders: OrdersLoaders;
  /** Which merchant and platform a store belongs to (tenancy). */
  stores: StoreDirectory;
  /** The products being ordered (catalog). */
  catalog: CatalogClient;
  /** Effective limits and the current period (billing), cached and invalidated on change. */
  entitlements: EntitlementSource;
}

function required<T extends object, K extends keyof T & string>(representation: T, field: K, type: string): NonNullable<T[K]> {
  const value = representation[field];
  if (value === null || value === undefined || value === '') throw new BadUserInputError(`the ${type} representation needs ${field}`, field);
  return value as NonNullable<T[K]>;
}

function instant(value: Date | string, field: string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new BadUserInputError(`${field} is not a DateTime`, field);
  return date.toISOString();
}

/** Orders' rules for one request: who may read and place which orders, and what a valid order is. */
export class OrdersService {
  constructor(
    private readonly deps: OrdersServiceDependencies,
    private readonly caller: Caller,
  ) {}

  // ───────────── reads ─────────────

  /** An order is visible to whoever may read its store; unknown (or non-uuid) ids are NOT_FOUND. */
  async order(id: string): Promise<OrderEntity> {
    return readableStoreRow(this.caller, isUuid(id) ? await this.deps.loaders.order.load(id) : null, 'Order', id, 'order');
  }

  /** The items of an order the caller already sees, in the order they were placed. */
  async itemsOf(order: OrderEntity): Promise<OrderItemResult[]> {
    const items = await this.deps.loaders.itemsOfOrder.load(order.id);
    return items.map((item) => ({ product: { id: item.productId }, quantity: item.quantity, unitPriceCents: item.unitPriceCents }));
  }

  // ───────────── usage: orders' part of billing's fan-out ─────────────

  /** max_orders_per_month in the subscription's current period (billing hands the period over). */
  async usageOfSubscription(subscription: SubscriptionRepresentation): Promise<FeatureUsage[]> {
    assertCanReadMerchant(this.caller, subscription.merchantId);
    const periodStart = instant(required(subscription, 'currentPeriodStart', 'MerchantSubscription'), 'currentPeriodStart');
    const periodEnd = instant(required(subscription, 'currentPeriodEnd', 'MerchantSubscription'), 'currentPeriodEnd');
    const current = await this.deps.loaders.orderCountInPeriod.load({
      merchantId: subscription.merchantId,
      platformId: subscription.platformId,
      periodStart,
      periodEnd,
    });
    return [{ code: MAX_ORDERS_PER_MONTH, current }];
  }

  /** The same, reached from a store, in the period of the subscription billing hands over (0 without a subscription). */
  async usageOfStore(store: StoreRepresentation): Promise<FeatureUsage[]> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.deps.stores);
    if (store.subscription === undefined) throw new BadUserInputError('the Store representation needs subscription', 'subscription');
    if (store.subscription === null) return [{ code: MAX_ORDERS_PER_MONTH, current: 0 }];
    const current = await this.deps.loaders.orderCountInPeriod.load({
      merchantId,
      platformId,
      periodStart: instant(required(store.subscription, 'currentPeriodStart', 'MerchantSubscription'), 'subscription.currentPeriodStart'),
      periodEnd: instant(required(store.subscription, 'currentPeriodEnd', 'MerchantSubscription'), 'subscription.currentPeriodEnd'),
    });
    return [{ code: MAX_ORDERS_PER_MONTH, current }];
  }

  // ───────────── mutations ─────────────

  /**
   * Places an order: the products are checked with catalog (one call; fails closed), prices are captured now,
   * and the order is written within max_orders_per_month of the current period (billing; fails closed) under a
   * per-merchant lock, order and items in one transaction.
   */
  async placeOrder(input: unknown): Promise<OrderEntity> {
    const values = parseInput(placeOrderInput, input);
    const store = await writableStore(this.caller, this.deps.stores, values.storeId, 'place orders');
    const products = await this.orderableProducts(store, values.items);
    const currencies = new Set(products.map((p) => p.currency));
    if (currencies.size > 1) throw new BadUserInputError(`items must all be in one currency, not ${[...currencies].sort().join(' and ')}`, 'items');
    const items: NewOrderItem[] = values.items.map((item, i) => ({
      productId: products[i].id,
      quantity: item.quantity,
      unitPriceCents: products[i].priceCents,
    }));
    const totalCents = items.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
    if (!Number.isSafeInteger(totalCents) || totalCents > MAX_TOTAL_CENTS) {
      throw new BadUserInputError(`the order total must not exceed ${MAX_TOTAL_CENTS} cents`, 'items');
    }
    const key = { merchantId: store.merchantId, platformId: store.platformId };
    const { limit, entitlements } = await limitForCreating(this.deps.entitlements, MAX_ORDERS_PER_MONTH, key);
    const placed = await this.deps.store.insertOrderWithinLimit(
      limit,
      { start: entitlements.periodStart, end: entitlements.periodEnd },
      { ...key, storeId: store.id, totalCents, currency: [...currencies][0], customerEmail: values.customerEmail },
      items,
    );
    this.deps.loaders.itemsOfOrder.prime(placed.order.id, placed.items as OrderItemEntity[]);
    return placed.order;
  }

  /** Each item's product, in item order: known to catalog, active and of this store (else items.<i>.productId). */
  private async orderableProducts(store: StoreRef, items: ReadonlyArray<{ productId: string }>): Promise<CatalogProduct[]> {
    const notInStore = (i: number) => new BadUserInputError(`items.${i}.productId is not a product of this store`, `items.${i}.productId`);
    items.forEach((item, i) => {
      if (!isUuid(item.productId)) throw notInStore(i);
    });
    const lookup = await this.deps.catalog.products([...new Set(items.map((item) => item.productId.toLowerCase()))]);
    if ('unknown' in lookup) {
      const index = lookup.unknown === null ? -1 : items.findIndex((item) => item.productId.toLowerCase() === lookup.unknown!.toLowerCase());
      if (index < 0) throw new BadUserInputError('an item names a product that does not exist', 'items');
      throw notInStore(index);
    }
    return items.map((item, i) => {
      const product = lookup.found.get(item.productId.toLowerCase())!;
      if (product.storeId.toLowerCase() !== store.id.toLowerCase()) throw notInStore(i);
      if (!product.isActive) throw new BadUserInputError(`items.${i}.productId is not active (deleted or deactivated)`, `items.${i}.productId`);
      return product;
    });
  }

  // ───────────── federation references: the same rules as any read ─────────────

  referencedOrder(id: string): Promise<OrderEntity> {
    return this.order(id);
  }

  /** The key and whatever billing handed over with it; the usage field checks who asks. */
  async referencedMerchantSubscription<T extends SubscriptionRepresentation>(subscription: T): Promise<T> {
    assertCanReadMerchant(this.caller, subscription.merchantId);
    return subscription;
  }
}
