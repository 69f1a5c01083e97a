import type { EntityManager } from 'typeorm';
import type { BillingStore, MerchantPlatform } from '../store/billing-store';
import type { MerchantSubscriptionEntity, SubscriptionHistoryEntity } from '../store/entities';

export type HistoryEntry = Omit<SubscriptionHistoryEntity, 'id' | 'subscriptionId' | 'seq'>;
export interface SubscriptionChange {
  subscription: Partial<MerchantSubscriptionEntity>;
  history: HistoryEntry[];
}

/** Thrown inside the writer's transaction when, under the lock, there is nothing to change: it rolls back. */
class NothingToChange extends Error {}

/**
 * One unit of a job's work through billing's single subscription writer (`writeSubscription`: the per-pair lock,
 * the row, its history and the entitlement notification in one transaction). `decide` sees the row as it is under
 * the lock and answers null when the job has nothing to do any more (another run, a webhook or an admin got there
 * first): then nothing is written and nothing notified. Whatever `decide` writes with the manager commits or rolls
 * back with the row. True when the change was written.
 */
export async function writeIfStillDue(
  store: BillingStore,
  pair: MerchantPlatform,
  decide: (current: MerchantSubscriptionEntity, manager: EntityManager) => Promise<SubscriptionChange | null>,
): Promise<boolean> {
  try {
    await store.writeSubscription(pair, async (current, manager) => {
      const change = current ? await decide(current, manager) : null;
      if (!change) throw new NothingToChange();
      return change;
    });
    return true;
  } catch (error) {
    if (error instanceof NothingToChange) return false;
    throw error;
  }
}
