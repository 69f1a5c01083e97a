import { wouldPassLimit } from '@tiergraph/plans';
import { addMonths, cycleMonths, currentPeriod, type Period } from '../subscriptions/periods';
import type { BillingCycle } from '../database/entities';

/** Percent of the allocation at which a crossing is recorded (once per period each). */
export const THRESHOLDS = [50, 75, 90, 100] as const;
/** How far ahead of the server's clock an event may say it occurred. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;

export interface UsageRules {
  /** Hours after a period closed during which its late events still count in it. */
  lateGraceHours: number;
}

/** The period an event counts in, or why it is refused (BAD_USER_INPUT on occurredAt). */
export type EventPeriod = { period: Period; current: Period; late: boolean } | { refused: string };

/**
 * Which period an event that occurred at `occurredAt` counts in, the subscription's stored period rolled forward
 * to `now`: the current one; the previous one when the event is older than the current period's start and the
 * previous period closed at most `lateGraceHours` ago; refused when it is further back, before the subscription
 * started (`subscribedAt`), or more than 5 minutes ahead.
 */
export function eventPeriod(stored: Period, cycle: BillingCycle, now: Date, occurredAt: Date, rules: UsageRules, subscribedAt?: Date): EventPeriod {
  if (occurredAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) return { refused: 'occurredAt is more than 5 minutes ahead of the server clock' };
  const current = currentPeriod(stored, cycle, now);
  if (occurredAt >= current.start) return { period: current, current, late: false };
  if (subscribedAt && occurredAt < subscribedAt) return { refused: `occurredAt is before the subscription started (${subscribedAt.toISOString()})` };
  const previous = previousPeriod(stored, cycle, current);
  if (now.getTime() - current.start.getTime() > rules.lateGraceHours * HOUR_MS) {
    return { refused: `occurredAt is before the current period (from ${current.start.toISOString()}) and its grace of ${rules.lateGraceHours} h has passed` };
  }
  if (occurredAt < previous.start) return { refused: `occurredAt is before the previous period (from ${previous.start.toISOString()})` };
  return { period: previous, current, late: true };
}

/** The period that ended when `current` began. */
export function previousPeriod(stored: Period, cycle: BillingCycle, current: Period): Period {
  if (current.start > stored.start) return currentPeriod(stored, cycle, new Date(current.start.getTime() - 1));
  return { start: addMonths(current.start, -cycleMonths(cycle)), end: current.start };
}

// ───────────── deciding a batch under the lock ─────────────

/** An event that passed validation, with its merchant, limit and period. */
export interface CandidateEvent {
  index: number;
  merchantId: string;
  platformId: string;
  storeId: string;
  featureCode: string;
  quantity: number;
  idempotencyKey: string;
  occurredAt: Date;
  /** A repeat that names no time matches the recorded one whatever it was. */
  occurredAtGiven: boolean;
  period: Period;
  current: Period;
  /** The effective limit now; null = unlimited. */
  limit: number | null;
  tierCode: string | null;
}

export interface RecordedEvent {
  storeId: string;
  quantity: number;
  occurredAt: Date;
}

export interface PeriodTotal {
  used: number;
  /** The limit at the period's last event; null = unlimited. */
  allocated: number | null;
}

/** What the store read inside the lock. */
export interface RecordState {
  /** By eventKey. */
  recorded: Map<string, RecordedEvent>;
  /** By periodKey. */
  totals: Map<string, PeriodTotal>;
}

export type EventOutcome =
  | { status: 'accepted' | 'duplicate'; current: number; limit: number | null }
  | { status: 'refused'; code: string; field?: string; message: string; current: number | null; limit: number | null };

export interface TotalDelta {
  merchantId: string;
  platformId: string;
  featureCode: string;
  periodStart: Date;
  periodEnd: Date;
  quantity: number;
  events: number;
  allocated: number | null;
  tierCode: string | null;
}

export interface DailyDelta {
  merchantId: string;
  platformId: string;
  featureCode: string;
  periodStart: Date;
  day: string;
  quantity: number;
  events: number;
}

export interface Crossing {
  merchantId: string;
  platformId: string;
  featureCode: string;
  periodStart: Date;
  threshold: number;
  used: number;
  allocated: number;
}

export interface RecordPlan {
  outcomes: Map<number, EventOutcome>;
  events: CandidateEvent[];
  totals: TotalDelta[];
  daily: DailyDelta[];
  crossings: Crossing[];
}

export const eventKey = (e: { merchantId: string; platformId: string; featureCode: string; idempotencyKey: string }) =>
  `${e.merchantId}:${e.platformId}:${e.featureCode}:${e.idempotencyKey}`;
export const periodKey = (e: { merchantId: string; platformId: string; featureCode: string }, start: Date) =>
  `${e.merchantId}:${e.platformId}:${e.featureCode}:${start.toISOString()}`;
export const utcDay = (date: Date) => date.toISOString().slice(0, 10);

/** Thresholds that usage passes going from `before` to `after` of `limit`. */
export function crossedThresholds(before: number, after: number, limit: number | null): number[] {
  if (limit === null || limit <= 0) return [];
  return THRESHOLDS.filter((t) => before * 100 < t * limit && t * limit <= after * 100);
}

/**
 * Applies a batch in the order given, against what is recorded: a key seen before with the same payload is a
 * duplicate, with another payload BAD_USER_INPUT; an event that would take its period past the limit is refused
 * (and counts for nothing, so a later smaller one may still fit). Pure: the store runs it inside the lock.
 */
export function decideBatch(candidates: CandidateEvent[], state: RecordState): RecordPlan {
  const outcomes = new Map<number, EventOutcome>();
  const accepted: CandidateEvent[] = [];
  const used = new Map<string, { used: number; limit: number | null }>();
  const seen = new Map<string, RecordedEvent & { occurredAtGiven: boolean }>();
  const totals = new Map<string, TotalDelta>();
  const daily = new Map<string, DailyDelta>();
  const crossings: Crossing[] = [];

  const periodState = (c: CandidateEvent, period: Date) => {
    const key = periodKey(c, period);
    let s = used.get(key);
    if (!s) {
      const row = state.totals.get(key);
      const isCurrent = period.getTime() === c.current.start.getTime();
      // the current period follows the plan now (a downgrade applies at once); a closed one keeps its allocation
      s = { used: row?.used ?? 0, limit: isCurrent || !row ? c.limit : row.allocated };
      used.set(key, s);
    }
    return s;
  };

  for (const c of candidates) {
    const current = periodState(c, c.current.start);
    const key = eventKey(c);
    const earlier = seen.get(key) ?? state.recorded.get(key);
    if (earlier) {
      const same = earlier.storeId === c.storeId && earlier.quantity === c.quantity && (!c.occurredAtGiven || earlier.occurredAt.getTime() === c.occurredAt.getTime());
      outcomes.set(
        c.index,
        same
          ? { status: 'duplicate', current: current.used, limit: current.limit }
          : {
              status: 'refused',
              code: 'BAD_USER_INPUT',
              field: 'idempotencyKey',
              message: 'this idempotencyKey was recorded with another quantity, store or time',
              current: current.used,
              limit: current.limit,
            },
      );
      continue;
    }
    const target = periodState(c, c.period.start);
    if (wouldPassLimit(target.limit, target.used, c.quantity)) {
      outcomes.set(c.index, {
        status: 'refused',
        code: 'FEATURE_LIMIT_REACHED',
        message: `${c.featureCode} limit reached (${target.used}/${target.limit}): ${c.quantity} more would exceed it`,
        current: target.used,
        limit: target.limit,
      });
      continue;
    }
    const before = target.used;
    target.used += c.quantity;
    for (const threshold of crossedThresholds(before, target.used, target.limit)) {
      crossings.push({ ...pick(c), periodStart: c.period.start, threshold, used: target.used, allocated: target.limit! });
    }
    seen.set(key, { storeId: c.storeId, quantity: c.quantity, occurredAt: c.occurredAt, occurredAtGiven: c.occurredAtGiven });
    accepted.push(c);
    const tk = periodKey(c, c.period.start);
    const total = totals.get(tk) ?? { ...pick(c), periodStart: c.period.start, periodEnd: c.period.end, quantity: 0, events: 0, allocated: target.limit, tierCode: c.tierCode };
    total.quantity += c.quantity;
    total.events += 1;
    totals.set(tk, total);
    const day = utcDay(c.occurredAt);
    const dk = `${tk}:${day}`;
    const d = daily.get(dk) ?? { ...pick(c), periodStart: c.period.start, day, quantity: 0, events: 0 };
    d.quantity += c.quantity;
    d.events += 1;
    daily.set(dk, d);
    outcomes.set(c.index, { status: 'accepted', current: current.used, limit: current.limit });
  }
  return { outcomes, events: accepted, totals: [...totals.values()], daily: [...daily.values()], crossings };
}

function pick(c: CandidateEvent) {
  return { merchantId: c.merchantId, platformId: c.platformId, featureCode: c.featureCode };
}
