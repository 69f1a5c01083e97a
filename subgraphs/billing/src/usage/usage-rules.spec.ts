import { crossedThresholds, decideBatch, eventPeriod, type CandidateEvent } from './usage-rules';

const stored = { start: new Date('2026-01-10T09:00:00Z'), end: new Date('2026-02-10T09:00:00Z') };
const rules = { lateGraceHours: 24 };
const at = (iso: string) => new Date(iso);

describe('eventPeriod', () => {
  const now = at('2026-03-10T15:00:00Z'); // 6 h into the third period: the stored one rolled forward twice
  it('counts an event in the current period, up to 5 minutes ahead', () => {
    const result = eventPeriod(stored, 'MONTHLY', now, at('2026-03-10T15:04:00Z'), rules);
    expect(result).toEqual({ period: { start: at('2026-03-10T09:00:00Z'), end: at('2026-04-10T09:00:00Z') }, current: expect.any(Object), late: false });
    expect(eventPeriod(stored, 'MONTHLY', now, at('2026-03-10T15:06:00Z'), rules)).toEqual({ refused: expect.stringMatching(/5 minutes/) });
  });

  it('counts a late event in the previous period within the grace, and refuses it after', () => {
    expect(eventPeriod(stored, 'MONTHLY', now, at('2026-03-10T08:00:00Z'), rules)).toMatchObject({ period: { start: at('2026-02-10T09:00:00Z'), end: at('2026-03-10T09:00:00Z') }, late: true });
    expect(eventPeriod(stored, 'MONTHLY', at('2026-03-11T09:00:01Z'), at('2026-03-10T08:00:00Z'), rules)).toEqual({ refused: expect.stringMatching(/grace of 24 h/) });
    expect(eventPeriod(stored, 'MONTHLY', now, at('2026-02-10T08:59:59Z'), rules)).toEqual({ refused: expect.stringMatching(/previous period/) });
  });

  it('refuses an event from before the subscription started', () => {
    expect(eventPeriod(stored, 'MONTHLY', at('2026-01-10T10:00:00Z'), at('2026-01-10T08:00:00Z'), rules, stored.start)).toEqual({ refused: expect.stringMatching(/before the subscription started/) });
  });

  it('finds the period before the stored one too', () => {
    expect(eventPeriod(stored, 'MONTHLY', at('2026-01-10T10:00:00Z'), at('2026-01-09T10:00:00Z'), rules)).toMatchObject({
      period: { start: at('2025-12-10T09:00:00Z'), end: at('2026-01-10T09:00:00Z') },
      late: true,
    });
  });
});

describe('thresholds and the batch decision', () => {
  it('crosses each threshold once, several at a time, none when unlimited or at zero', () => {
    expect(crossedThresholds(400, 960, 1000)).toEqual([50, 75, 90]);
    expect(crossedThresholds(500, 600, 1000)).toEqual([]);
    expect(crossedThresholds(499, 500, 1000)).toEqual([50]);
    expect(crossedThresholds(0, 10, null)).toEqual([]);
    expect(crossedThresholds(0, 10, 0)).toEqual([]);
  });

  it('applies events in order: a refused one counts for nothing, a later smaller one fits', () => {
    const period = { start: at('2026-03-10T09:00:00Z'), end: at('2026-04-10T09:00:00Z') };
    const base = { merchantId: 'm', platformId: 'p', storeId: 's', featureCode: 'f', occurredAt: at('2026-03-11T00:00:00Z'), occurredAtGiven: true, period, current: period, limit: 100, tierCode: 't' };
    const events: CandidateEvent[] = [60, 50, 40].map((quantity, index) => ({ ...base, index, quantity, idempotencyKey: `k${index}` }));
    const plan = decideBatch(events, { recorded: new Map(), totals: new Map() });
    expect([...plan.outcomes.values()].map((o) => o.status)).toEqual(['accepted', 'refused', 'accepted']);
    expect(plan.totals).toEqual([expect.objectContaining({ quantity: 100, events: 2, allocated: 100 })]);
    expect(plan.crossings.map((c) => c.threshold)).toEqual([50, 75, 90, 100]);
  });
});
