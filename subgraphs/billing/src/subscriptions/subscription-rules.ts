import type { SubscriptionStatus } from '@tiergraph/runtime';
import type { SubscriptionChange } from '../database/entities';

/** A tier as the rules compare it. */
export interface TierRef {
  id: string;
  code: string;
  priceMonthlyCents: number;
}

/** What the tier-change rule compares (a whole TierRef, or any tier row). */
type TierPrice = Pick<TierRef, 'priceMonthlyCents'> & Partial<TierRef>;

/** A move between tiers, named by price: the one rule every writer of a tier change follows. */
export function tierChangeOf(from: TierPrice, to: TierPrice): 'UPGRADE' | 'DOWNGRADE' | 'TIER_CHANGE' {
  if (to.priceMonthlyCents > from.priceMonthlyCents) return 'UPGRADE';
  if (to.priceMonthlyCents < from.priceMonthlyCents) return 'DOWNGRADE';
  return 'TIER_CHANGE';
}

/** What one history entry says; who and when are added by the writer. */
export interface HistoryChange {
  change: SubscriptionChange;
  fromTierCode: string | null;
  toTierCode: string | null;
  fromStatus: SubscriptionStatus | null;
  toStatus: SubscriptionStatus | null;
  reason: string | null;
}

/** The one history-entry builder: everything not named is null. */
export function historyEntry(change: SubscriptionChange, extra: Partial<HistoryChange> = {}): HistoryChange {
  return { change, fromTierCode: null, toTierCode: null, fromStatus: null, toStatus: null, reason: null, ...extra };
}
