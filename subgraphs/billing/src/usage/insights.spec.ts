import { averageDaily, daysBetween, slope, trendOf, usageInsights, type InsightsInput, type TierOffer } from './insights';

const period = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-04-01T00:00:00Z') };
const tiers: TierOffer[] = [
  { code: 'enterprise', name: 'Enterprise', priceMonthlyCents: 39900, allocation: null },
  { code: 'business', name: 'Business', priceMonthlyCents: 19900, allocation: 2_000_000 },
  { code: 'essential', name: 'Essential', priceMonthlyCents: 4900, allocation: 100_000 },
  { code: 'professional', name: 'Professional', priceMonthlyCents: 9900, allocation: 500_000 },
];
const day = (d: number) => `2026-03-${String(d).padStart(2, '0')}`;
const series = (values: Record<number, number>) => new Map(Object.entries(values).map(([d, q]) => [day(Number(d)), q]));

function input(overrides: Partial<InsightsInput> & { daily: Map<string, number> }): InsightsInput {
  const used = [...overrides.daily.values()].reduce((a, b) => a + b, 0);
  return { now: new Date('2026-03-15T12:00:00Z'), period, allocated: 100_000, used, events: 10, periodDaily: overrides.daily, unit: 'tokens', currentTierCode: 'essential', tiers, ...overrides };
}

describe('usageInsights on fixed series', () => {
  it('an empty period: zeros, stable, no alerts, every day of the period so far', () => {
    const result = usageInsights(input({ daily: new Map(), events: 0 }));
    expect(result).toMatchObject({
      allocated: 100_000, used: 0, remaining: 100_000, usagePercentage: 0, daysRemaining: 17,
      avgDailyUsage: 0, projectedPeriodUsage: 0, trend: 'STABLE', alerts: [], recommendations: [],
    });
    expect(result.daily).toHaveLength(15);
    expect(result.daily[0]).toEqual({ date: '2026-03-01', quantity: 0 });
    expect(result.daily[14]).toEqual({ date: '2026-03-15', quantity: 0 });
  });

  it('a ramp: the last 7 days average, the projection to the end, an increasing trend', () => {
    const values: Record<number, number> = {};
    for (let d = 2; d <= 15; d++) values[d] = (d - 1) * 100; // 100 … 1,400
    const result = usageInsights(input({ daily: series(values), events: 14 }));
    expect(result.used).toBe(10_500);
    expect(result.avgDailyUsage).toBe(1100); // (800 + … + 1,400) / 7
    expect(result.projectedPeriodUsage).toBe(10_500 + 1100 * 16.5);
    expect(result.trend).toBe('INCREASING');
    expect(result.alerts).toEqual([]);
    expect(result.recommendations).toEqual(['Usage is increasing: check which requests use the most tokens']);
    expect(result.daily.find((d) => d.date === '2026-03-10')).toEqual({ date: '2026-03-10', quantity: 900 });
  });

  it('the same ramp going down is decreasing; a flat series is stable', () => {
    const down: Record<number, number> = {};
    const flat: Record<number, number> = {};
    for (let d = 2; d <= 15; d++) {
      down[d] = (16 - d) * 100;
      flat[d] = 500;
    }
    expect(usageInsights(input({ daily: series(down) })).trend).toBe('DECREASING');
    expect(usageInsights(input({ daily: series(flat) })).trend).toBe('STABLE');
  });

  it('a spike today: 50 % info, a forecast with the run-out day, the cheapest covering tier, big events noted', () => {
    const result = usageInsights(input({ daily: series({ 15: 50_000 }), events: 1 }));
    expect(result.usagePercentage).toBe(50);
    expect(result.avgDailyUsage).toBe(7142.86);
    expect(result.projectedPeriodUsage).toBe(Math.round(50_000 + 7142.86 * 16.5));
    expect(result.alerts).toEqual([
      { level: 'INFO', message: "Moderate usage: 50.0 % of this period's tokens used", action: 'Usage is on track' },
      {
        level: 'WARNING',
        message: 'At the current rate the allocation runs out on 2026-03-22, before the period ends on 2026-04-01',
        action: 'Upgrade, or reduce usage',
      },
    ]);
    expect(result.recommendations).toEqual([
      'Consider Professional (500,000 tokens per period): it covers the projected 167,857 tokens',
      'Usage is increasing: check which requests use the most tokens',
      'The average event uses 50,000 tokens, over 1 % of the allocation: consider smaller requests',
    ]);
  });

  it('the last day of the period: critical, renews in 1 day, no forecast when the allocation lasts', () => {
    const values: Record<number, number> = {};
    for (let d = 1; d <= 31; d++) values[d] = 3000;
    const result = usageInsights(input({ now: new Date('2026-03-31T18:00:00Z'), daily: series(values), events: 310 }));
    expect(result).toMatchObject({ used: 93_000, remaining: 7000, usagePercentage: 93, daysRemaining: 1, avgDailyUsage: 3000, projectedPeriodUsage: 93_750, trend: 'STABLE' });
    expect(result.alerts).toEqual([
      { level: 'CRITICAL', message: "Critical: 93.0 % of this period's tokens used", action: 'Upgrade now: usage past the allocation is refused' },
      { level: 'INFO', message: 'The period renews in 1 day', action: 'Ensure the payment method is up to date' },
    ]);
    expect(result.recommendations).toEqual(['Consider Professional (500,000 tokens per period): it covers the projected 93,750 tokens']);
    expect(result.daily).toHaveLength(31);
  });

  it('75 % warns; past the allocation after a downgrade remaining is 0 and no public tier may cover it', () => {
    expect(usageInsights(input({ daily: series({ 10: 76_000 }) })).alerts[0]).toMatchObject({ level: 'WARNING', message: "High usage: 76.0 % of this period's tokens used" });
    const over = usageInsights(input({ daily: series({ 10: 800 }), allocated: 500, tiers: [{ code: 'essential', name: 'Essential', priceMonthlyCents: 4900, allocation: 100 }] }));
    expect(over).toMatchObject({ remaining: 0, usagePercentage: 160 });
    expect(over.recommendations[0]).toBe('No public plan covers the projected 2,686 tokens: contact us for a custom allocation');
  });

  it('unlimited: no percentage, no remaining, no alerts about the allocation', () => {
    const result = usageInsights(input({ daily: series({ 15: 50_000 }), allocated: null }));
    expect(result).toMatchObject({ remaining: null, usagePercentage: null, alerts: [] });
  });
});

describe('the series maths', () => {
  it('averages over the days of the period only when it is younger than a week', () => {
    const young = { start: new Date('2026-03-13T09:00:00Z'), end: new Date('2026-04-13T09:00:00Z') };
    expect(averageDaily(series({ 13: 300, 14: 0, 15: 600 }), young, new Date('2026-03-15T12:00:00Z'))).toBe(300);
  });

  it('slope and trend by least squares over 14 days', () => {
    expect(slope([1, 2, 3, 4])).toBe(1);
    expect(slope([5, 5, 5])).toBe(0);
    // only first and last differ: a two-point comparison says rising, all the points say nothing much
    const values: Record<number, number> = { 2: 100, 15: 110 };
    for (let d = 3; d < 15; d++) values[d] = 105;
    expect(trendOf(series(values), new Date('2026-03-15T12:00:00Z'))).toBe('STABLE');
    expect(daysBetween(new Date('2026-02-27T23:00:00Z'), new Date('2026-03-01T01:00:00Z'))).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
  });
});
