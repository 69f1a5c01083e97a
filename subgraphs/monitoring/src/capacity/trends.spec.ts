import { CAPACITY_METRICS, daysUntilThreshold, growthTrends, leastSquares, windowStart, type CapacityMetric, type SnapshotPoint } from './trends';

/** Snapshots of one metric (the others 0) on the given days of November 2026. */
function series(metric: CapacityMetric, points: Array<[day: number, value: number]>): SnapshotPoint[] {
  return points.map(([day, value]) => ({
    date: `2026-11-${String(day).padStart(2, '0')}`,
    values: { ...(Object.fromEntries(CAPACITY_METRICS.map((m) => [m, 0])) as Record<CapacityMetric, number>), [metric]: value },
  }));
}

const trendOf = (snapshots: SnapshotPoint[], metric: CapacityMetric, days = 30) => growthTrends(snapshots, days).trends.find((t) => t.metric === metric)!;

describe('least-squares growth trends', () => {
  it('fits a perfect line exactly: 100, 110, 120, 130, 140 over days 1–5', () => {
    const trend = trendOf(series('PRODUCTS', [[1, 100], [2, 110], [3, 120], [4, 130], [5, 140]]), 'PRODUCTS');
    // slope 10/day, fitted start 100, 4 days: 40 / 100 = 40 %; 140 + 30 × 10 = 440
    expect(trend).toEqual({ metric: 'PRODUCTS', startValue: 100, currentValue: 140, change: 40, growthRatePercent: 40, dailyGrowthRate: 10, monthlyProjection: 440 });
  });

  it('uses every snapshot of a noisy series, not only the first and the last', () => {
    // y = 10, 14, 12, 18, 16 on x = 0..4: x̄ = 2, ȳ = 14, Sxy = (-2)(-4) + (-1)(0) + 0 + (1)(4) + (2)(2) = 16, Sxx = 10
    // slope 1.6, intercept 14 − 3.2 = 10.8; growth 1.6 × 4 / 10.8 = 59.26 %; projection 16 + 48 = 64
    const snapshots = series('STORES', [[1, 10], [2, 14], [3, 12], [4, 18], [5, 16]]);
    const trend = trendOf(snapshots, 'STORES');
    expect(trend).toEqual({ metric: 'STORES', startValue: 10, currentValue: 16, change: 6, growthRatePercent: 59.26, dailyGrowthRate: 1.6, monthlyProjection: 64 });
    // the reference's two-point rate is (16 − 10) / 4 = 1.5 a day for both series: a day in between changes ours
    // y = 10, 20, 12, 18, 16: ȳ = 15.2, Sxy = 10.4 − 4.8 + 0 + 2.8 + 1.6 = 10, slope 1
    const secondDayHigher = series('STORES', [[1, 10], [2, 20], [3, 12], [4, 18], [5, 16]]);
    expect(trendOf(secondDayHigher, 'STORES').dailyGrowthRate).toBe(1);
  });

  it('reports a flat series as zero growth, and a shrinking one with a negative slope', () => {
    expect(trendOf(series('TEAM_MEMBERS', [[1, 7], [2, 7], [3, 7]]), 'TEAM_MEMBERS')).toMatchObject({ change: 0, growthRatePercent: 0, dailyGrowthRate: 0, monthlyProjection: 7 });
    // 50, 40, 30: slope −10, fitted start 50, growth −20 / 50 = −40 %; projection 30 − 300 is floored at 0
    expect(trendOf(series('PRODUCTS', [[1, 50], [2, 40], [3, 30]]), 'PRODUCTS')).toEqual({
      metric: 'PRODUCTS', startValue: 50, currentValue: 30, change: -20, growthRatePercent: -40, dailyGrowthRate: -10, monthlyProjection: 0,
    });
  });

  it('grows from zero without special cases: the slope projects, the percentage of a zero start is null', () => {
    // 0, 5, 10: the reference answers growth 100 %, daily rate 0 and a projection equal to the current value
    const trend = trendOf(series('ORDERS', [[1, 0], [2, 5], [3, 10]]), 'ORDERS');
    expect(trend).toEqual({ metric: 'ORDERS', startValue: 0, currentValue: 10, change: 10, growthRatePercent: null, dailyGrowthRate: 5, monthlyProjection: 160 });
  });

  it('measures x in calendar days, so a gap of missing days weighs as the time it is', () => {
    // days 1, 2 and 11 with 100, 102, 120: a straight line of 2 a day (the gap is 9 days, not one step)
    const snapshots = series('STORAGE_GB', [[1, 100], [2, 102], [11, 120]]);
    const result = growthTrends(snapshots, 30);
    expect(result).toMatchObject({ periodDays: 10, snapshotsAvailable: 3, startDate: '2026-11-01', endDate: '2026-11-11', message: null });
    expect(result.trends.find((t) => t.metric === 'STORAGE_GB')).toMatchObject({ dailyGrowthRate: 2, growthRatePercent: 20, monthlyProjection: 180 });
  });

  it('sorts snapshots by day whatever order they come in', () => {
    const ordered = series('PRODUCTS', [[1, 100], [2, 110], [3, 120]]);
    expect(growthTrends([ordered[2], ordered[0], ordered[1]], 30)).toEqual(growthTrends(ordered, 30));
  });

  it('gives no trends but a message for a single snapshot or none', () => {
    expect(growthTrends(series('PRODUCTS', [[5, 100]]), 7)).toEqual({
      periodDays: 7,
      snapshotsAvailable: 1,
      startDate: '2026-11-05',
      endDate: '2026-11-05',
      message: 'Insufficient data for trend analysis: 1 snapshot in the last 7 days, at least 2 are needed',
      trends: [],
    });
    expect(growthTrends([], 30)).toMatchObject({ snapshotsAvailable: 0, startDate: null, endDate: null, trends: [], message: expect.stringContaining('0 snapshots') });
  });

  it('has no line for fewer than two distinct days', () => {
    expect(leastSquares([{ x: 0, y: 1 }])).toBeNull();
    expect(leastSquares([{ x: 3, y: 1 }, { x: 3, y: 2 }])).toBeNull();
  });

  it('windows the last n UTC days, today included', () => {
    expect(windowStart(new Date('2026-12-01T11:00:00Z'), 30)).toBe('2026-11-02');
    expect(windowStart(new Date('2026-12-01T23:59:59Z'), 1)).toBe('2026-12-01');
  });
});

describe('days until a threshold', () => {
  const linear = series('PRODUCTS', [[1, 100], [2, 110], [3, 120], [4, 130], [5, 140]]);

  it('divides what is left by the slope, rounding up to whole days', () => {
    expect(daysUntilThreshold(linear, 'PRODUCTS', 200)).toBe(6); // 60 / 10
    expect(daysUntilThreshold(linear, 'PRODUCTS', 141)).toBe(1); // 0.1 of a day is within the next day
    expect(daysUntilThreshold(linear, 'PRODUCTS', 205)).toBe(7); // 6.5
  });

  it('uses the least-squares slope of a noisy series from its latest value', () => {
    // slope 1.6 (see above), latest 16: (40 − 16) / 1.6 = 15
    expect(daysUntilThreshold(series('STORES', [[1, 10], [2, 14], [3, 12], [4, 18], [5, 16]]), 'STORES', 40)).toBe(15);
  });

  it('counts from zero: 0, 5, 10 reaches 100 in 18 days', () => {
    expect(daysUntilThreshold(series('ORDERS', [[1, 0], [2, 5], [3, 10]]), 'ORDERS', 100)).toBe(18);
  });

  it('answers 0 when the threshold is already reached, even with one snapshot', () => {
    expect(daysUntilThreshold(linear, 'PRODUCTS', 140)).toBe(0);
    expect(daysUntilThreshold(linear, 'PRODUCTS', 50)).toBe(0);
    expect(daysUntilThreshold(series('PRODUCTS', [[1, 500]]), 'PRODUCTS', 400)).toBe(0);
  });

  it('answers null when flat, shrinking, or without two snapshots to fit', () => {
    expect(daysUntilThreshold(series('TEAM_MEMBERS', [[1, 7], [2, 7], [3, 7]]), 'TEAM_MEMBERS', 10)).toBeNull();
    expect(daysUntilThreshold(series('PRODUCTS', [[1, 50], [2, 40], [3, 30]]), 'PRODUCTS', 100)).toBeNull();
    expect(daysUntilThreshold(series('PRODUCTS', [[1, 50]]), 'PRODUCTS', 100)).toBeNull();
    expect(daysUntilThreshold([], 'PRODUCTS', 100)).toBeNull();
  });

  it('takes a gap of days into account: 100 on day 1, 120 on day 11 is 2 a day', () => {
    expect(daysUntilThreshold(series('STORAGE_GB', [[1, 100], [11, 120]]), 'STORAGE_GB', 130)).toBe(5);
  });
});
