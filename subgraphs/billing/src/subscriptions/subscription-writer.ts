import { merchantPlatformKey, notifyEntitlementsChanged, type MerchantPlatform } from '@tiergraph/runtime';
import type { DataSource, EntityManager } from 'typeorm';
import { MerchantSubscriptionEntity } from '../database/entities';
import type { HistoryChange } from './subscription-rules';

/**
 * The one writer of subscription state. Every change of a merchant's subscription, from an admin mutation, a Stripe
 * action or a Stripe webhook, goes through here: the per-pair lock, the row, its history entries and the
 * notification that makes every entitlement cache drop the merchant, in the caller's transaction.
 */

/** The advisory lock key of one merchant's subscription on one platform (the only place it is spelled). */
const lockKeyOf = (pair: MerchantPlatform) => `billing:subscription:${merchantPlatformKey(pair)}`;

/** Who wrote the history entries, and when (null: the transaction's time, as PostgreSQL's now()). */
export interface HistoryAuthor {
  actor: string;
  changedAt: Date | null;
}

/** The columns the entitlement caches and readers see: a change to any of them notifies. */
const VISIBLE: ReadonlyArray<keyof MerchantSubscriptionEntity> = [
  'tierId',
  'status',
  'billingCycle',
  'currentPeriodStart',
  'currentPeriodEnd',
  'trialEndsAt',
  'cancelAtPeriodEnd',
  'cancelledAt',
  'stripeCustomerId',
  'stripeSubscriptionId',
  'paymentAttempts',
];

const comparable = (value: unknown) => (value instanceof Date ? value.getTime() : (value ?? null));

/** Whether a saved row differs from the one before in anything the entitlement caches or readers see. */
function visiblyChanged(before: MerchantSubscriptionEntity, after: MerchantSubscriptionEntity): boolean {
  return VISIBLE.some((column) => comparable(before[column]) !== comparable(after[column]));
}

/**
 * The merchant's subscription on the platform, locked until the transaction ends: the per-pair advisory lock (so
 * every writer serialises, also before the row exists), then the row itself. Null: none yet.
 */
export async function lockSubscription(manager: EntityManager, pair: MerchantPlatform): Promise<MerchantSubscriptionEntity | null> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKeyOf(pair)]);
  return manager
    .getRepository(MerchantSubscriptionEntity)
    .findOne({ where: { merchantId: pair.merchantId, platformId: pair.platformId }, lock: { mode: 'pessimistic_write' } });
}

/**
 * Saves a locked subscription (`current`, from lockSubscription; null creates it) with `changes`, appends the history
 * entries in their order, and when the row is new or visibly changed queues the entitlement notification
 * (delivered when the transaction commits).
 */
export async function saveSubscription(
  manager: EntityManager,
  pair: MerchantPlatform,
  current: MerchantSubscriptionEntity | null,
  changes: Partial<MerchantSubscriptionEntity>,
  history: readonly HistoryChange[],
  author: HistoryAuthor,
): Promise<MerchantSubscriptionEntity> {
  const repo = manager.getRepository(MerchantSubscriptionEntity);
  const before = current ? { ...current } : null;
  const saved = await repo.save(current ? repo.merge(current, changes) : repo.create({ ...pair, ...changes }));
  for (const entry of history) {
    await manager.query(
      `INSERT INTO billing.subscription_history (subscription_id, change, from_tier_code, to_tier_code, from_status, to_status,
         reason, actor, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9::timestamptz, now()))`,
      [saved.id, entry.change, entry.fromTierCode, entry.toTierCode, entry.fromStatus, entry.toStatus, entry.reason, author.actor, author.changedAt],
    );
  }
  // a history entry is part of a cached answer too (MerchantFeatures' history)
  if (!before || history.length > 0 || visiblyChanged(before, saved)) await notifyEntitlementsChanged(manager, pair);
  return saved;
}

/** What a change of a subscription writes: the row's new values and the history entries that say why. */
export interface SubscriptionWrite {
  subscription: Partial<MerchantSubscriptionEntity>;
  history: HistoryChange[];
}

/**
 * A change in a transaction of its own: lock, `change` decides from the current row (null: none yet), save.
 * What mutations and Stripe actions use; webhooks lock and save on the event's transaction.
 */
export async function writeSubscription(
  db: DataSource,
  pair: MerchantPlatform,
  author: HistoryAuthor,
  change: (current: MerchantSubscriptionEntity | null) => Promise<SubscriptionWrite>,
): Promise<MerchantSubscriptionEntity> {
  // `change` always answers a write, so something is saved
  return (await writeSubscriptionIf(db, pair, author, change))!;
}

/**
 * The same, where `change` may answer null (nothing to do any more: nothing saved, nothing notified; answers null),
 * and sees the transaction's manager, so what else it writes commits or rolls back with the row (the jobs).
 */
export function writeSubscriptionIf(
  db: DataSource,
  pair: MerchantPlatform,
  author: HistoryAuthor,
  change: (current: MerchantSubscriptionEntity | null, manager: EntityManager) => Promise<SubscriptionWrite | null>,
): Promise<MerchantSubscriptionEntity | null> {
  return db.transaction(async (manager) => {
    const current = await lockSubscription(manager, pair);
    const write = await change(current, manager);
    return write ? saveSubscription(manager, pair, current, write.subscription, write.history, author) : null;
  });
}
