import type { MerchantPlatform } from '@tiergraph/runtime';
import type { DataSource, EntityManager } from 'typeorm';
import type { MerchantSubscriptionEntity } from '../database/entities';
import { writeSubscriptionIf, type HistoryAuthor, type SubscriptionWrite } from '../subscriptions/subscription-writer';

/**
 * One unit of a job's work through billing's one subscription writer (writeSubscriptionIf: the per-pair lock, the
 * row, its history and the entitlement notification), in a transaction of its own; a seam the jobs' tests can fail. `decide` sees
 * the row as it is under the lock and answers null when the job has nothing to do any more (another run, a webhook
 * or an admin got there first): then nothing is saved and nothing notified. Whatever `decide` writes with the
 * manager commits or rolls back with the row. True when the change was written.
 */
export class JobSubscriptionWriter {
  constructor(private readonly db: DataSource) {}

  writeIfStillDue(
    pair: MerchantPlatform,
    author: HistoryAuthor,
    decide: (current: MerchantSubscriptionEntity, manager: EntityManager) => Promise<SubscriptionWrite | null>,
  ): Promise<boolean> {
    return writeSubscriptionIf(this.db, pair, author, async (current, manager) => (current ? decide(current, manager) : null)).then((saved) => saved !== null);
  }
}
