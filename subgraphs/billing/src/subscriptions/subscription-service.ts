import {
  assertCanReadMerchant,
  BadUserInputError,
  connectionOf,
  isUuid,
  merchantPlatform,
  NotFoundError,
  parseInput,
  requireAdmin,
  verifiedStore,
  type Caller,
  type StoreDirectory,
  type SubscriptionStatus,
  requireAdminOrService,
} from '@tiergraph/runtime';
import type { TenancyClient } from '../clients/tenancy-client';
import type { MerchantSubscriptionEntity, SubscriptionChange, SubscriptionHistoryEntity } from '../database/entities';
import { bringsContributions, contributedUsage, type ContributedUsage } from '../entitlements/contributions';
import { pageArgs, updateSubscriptionInput } from '../inputs';
import type { StoreParent, SubscriptionParent } from '../references';
import type { TierService } from '../tiers/tier-service';
import { firstPeriod, subscriptionPeriod, type Period } from './periods';
import { historyEntry, tierChangeOf, type HistoryChange } from './subscription-rules';
import type { PlanRowLoaders } from '../entitlements/plan-store';
import type { SubscriptionFilter, SubscriptionLoaders, SubscriptionStore } from './subscription-store';

const DAY_MS = 86_400_000;

export interface SubscriptionDependencies {
  store: SubscriptionStore;
  /** With `subscriptionWithPlanById`: a reference for `features` reads its plan's rows with the subscription (plan-store.ts). */
  loaders: SubscriptionLoaders & PlanRowLoaders;
  tiers: TierService;
  tenancy: TenancyClient;
  stores: StoreDirectory;
  clock: () => Date;
}

/** Merchants' subscriptions for one request: who may read them, the admin's changes, history and the admin views. */
export class SubscriptionService {
  constructor(
    private readonly deps: SubscriptionDependencies,
    private readonly caller: Caller,
  ) {}

  /** The admin's change of a merchant's subscription (creating it with a tier when there is none). */
  async updateSubscription(rawMerchantId: string, rawPlatformId: string, input: unknown): Promise<MerchantSubscriptionEntity> {
    requireAdmin(this.caller);
    const values = parseInput(updateSubscriptionInput, input);
    const { name, merchantId, platformId } = await this.deps.tenancy.merchantAndPlatform(rawMerchantId, rawPlatformId);
    const tier = values.tierCode ? await this.deps.tiers.tier(values.tierCode) : null;
    const now = this.deps.clock();
    const reason = values.reason ?? null;

    return this.deps.store.write({ merchantId, platformId }, { actor: this.caller.userId, changedAt: now }, async (current) => {
      const history: HistoryChange[] = [];
      const entry = (change: SubscriptionChange, extra: Partial<HistoryChange>) => history.push(historyEntry(change, { reason, ...extra }));

      if (!current) {
        if (!tier) throw new BadUserInputError('a new subscription needs a tierCode', 'tierCode');
        const cycle = values.billingCycle ?? 'MONTHLY';
        const trial = values.trialDays ? new Date(now.getTime() + values.trialDays * DAY_MS) : null;
        const status: SubscriptionStatus = values.status ?? (trial ? 'TRIAL' : 'ACTIVE');
        const period = firstPeriod(now, cycle);
        entry('CREATED', { toTierCode: tier.code, toStatus: status });
        return {
          subscription: {
            merchantName: name,
            tierId: tier.id,
            status,
            billingCycle: cycle,
            currentPeriodStart: period.start,
            currentPeriodEnd: period.end,
            trialEndsAt: trial,
            cancelAtPeriodEnd: false,
            cancelledAt: status === 'CANCELLED' ? now : null,
          },
          history,
        };
      }

      const next: Partial<MerchantSubscriptionEntity> = { merchantName: name };
      if (tier && tier.id !== current.tierId) {
        const from = await this.deps.tiers.currentTierOf(current);
        entry(tierChangeOf(from, tier), { fromTierCode: from.code, toTierCode: tier.code });
        next.tierId = tier.id;
      }
      if (values.billingCycle && values.billingCycle !== current.billingCycle) {
        const period = firstPeriod(now, values.billingCycle);
        entry('CYCLE_CHANGE', { reason: reason ?? `${current.billingCycle} → ${values.billingCycle}` });
        Object.assign(next, { billingCycle: values.billingCycle, currentPeriodStart: period.start, currentPeriodEnd: period.end });
      }
      let status = current.status;
      if (values.trialDays !== undefined && values.trialDays !== null) {
        if (values.trialDays > 0) {
          next.trialEndsAt = new Date(now.getTime() + values.trialDays * DAY_MS);
          entry('TRIAL_STARTED', { fromStatus: status, toStatus: 'TRIAL' });
          status = 'TRIAL';
        } else {
          next.trialEndsAt = null;
        }
      }
      if (values.status && values.status !== status) {
        entry('STATUS_CHANGE', { fromStatus: status, toStatus: values.status });
        status = values.status;
      }
      if (status !== current.status) {
        next.status = status;
        next.cancelledAt = status === 'CANCELLED' ? now : null;
      }
      return { subscription: next, history };
    });
  }

  async subscriptionOfMerchant(merchantId: string, platformId: string): Promise<MerchantSubscriptionEntity | null> {
    assertCanReadMerchant(this.caller, merchantId);
    if (!isUuid(merchantId) || !isUuid(platformId)) return null;
    return this.deps.loaders.subscriptionOf.load(merchantPlatform(merchantId, platformId));
  }

  /** The subscription of a verified store's merchant on its platform. */
  subscriptionOfPair(pair: { merchantId: string; platformId: string }): Promise<MerchantSubscriptionEntity | null> {
    return this.deps.loaders.subscriptionOf.load({ merchantId: pair.merchantId, platformId: pair.platformId });
  }

  async subscriptionOfStore(store: StoreParent): Promise<MerchantSubscriptionEntity | null> {
    return this.subscriptionOfPair(await verifiedStore(this.caller, store, this.deps.stores));
  }

  /** A reference by either key; the usage a plan brings for `features` stays on the returned object. */
  async referencedSubscription(reference: { id?: string; merchantId?: string; platformId?: string } & ContributedUsage): Promise<SubscriptionParent | null> {
    let subscription: MerchantSubscriptionEntity | null = null;
    // the usage the owners contributed comes only with `features` (@requires): its overrides and metered totals in the same statement
    const byId = bringsContributions(reference) ? this.deps.loaders.subscriptionWithPlanById : this.deps.loaders.subscriptionById;
    if (reference.id) subscription = isUuid(reference.id) ? await byId.load(reference.id) : null;
    else if (reference.merchantId && reference.platformId && isUuid(reference.merchantId) && isUuid(reference.platformId)) {
      subscription = await this.deps.loaders.subscriptionOf.load(merchantPlatform(reference.merchantId, reference.platformId));
    }
    if (!subscription) throw new NotFoundError('MerchantSubscription', reference.id ?? `${reference.merchantId}:${reference.platformId}`);
    assertCanReadMerchant(this.caller, subscription.merchantId);
    return { ...subscription, ...contributedUsage(reference) };
  }

  history(subscription: MerchantSubscriptionEntity): Promise<SubscriptionHistoryEntity[]> {
    return this.deps.loaders.historyOf.load(subscription.id);
  }

  /** The period as of now: stored, or rolled forward by whole cycles when the stored one has ended. */
  periodOf(subscription: MerchantSubscriptionEntity): Period {
    return subscriptionPeriod(subscription, this.deps.clock());
  }

  async stats() {
    requireAdminOrService(this.caller);
    return { ...(await this.deps.store.stats()), currency: 'EUR' };
  }

  async subscriptions(first: number, after: string | null | undefined, filter: SubscriptionFilter | null | undefined) {
    requireAdminOrService(this.caller);
    parseInput(pageArgs, { first });
    const cursor = after ? decodeCursor(after) : null;
    const [page, totalCount] = await Promise.all([this.deps.store.page(filter ?? {}, first, cursor), this.deps.store.count(filter ?? {})]);
    return connectionOf({ nodes: page.rows, cursors: page.rows.map(encodeCursor), hasNextPage: page.hasNextPage }, totalCount, !!cursor);
  }
}

function encodeCursor(row: MerchantSubscriptionEntity): string {
  return Buffer.from(JSON.stringify([row.merchantName, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { merchantName: string; id: string } {
  try {
    const [merchantName, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof merchantName === 'string' && typeof id === 'string' && isUuid(id)) return { merchantName, id };
  } catch {
    // fall through
  }
  throw new BadUserInputError('after is not a cursor of this list', 'after');
}
