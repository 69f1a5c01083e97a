import { addMonths, anchorDay, currentPeriod, firstPeriod, type Period } from './periods';

const d = (iso: string) => new Date(iso);

describe('billing periods', () => {
  it('adds months clamping the day to the month', () => {
    expect(addMonths(d('2026-01-31T10:00:00Z'), 1).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addMonths(d('2028-01-31T10:00:00Z'), 1).toISOString()).toBe('2028-02-29T10:00:00.000Z');
    expect(addMonths(d('2026-11-15T00:00:00Z'), 12).toISOString()).toBe('2027-11-15T00:00:00.000Z');
  });

  it('starts monthly and annual periods at the subscription start, not the calendar month', () => {
    expect(firstPeriod(d('2026-03-17T08:30:00Z'), 'MONTHLY')).toEqual({ start: d('2026-03-17T08:30:00Z'), end: d('2026-04-17T08:30:00Z') });
    expect(firstPeriod(d('2026-03-17T08:30:00Z'), 'ANNUAL')).toEqual({ start: d('2026-03-17T08:30:00Z'), end: d('2027-03-17T08:30:00Z') });
  });

  it('keeps the stored period while it runs and rolls forward by whole cycles after it ended', () => {
    const stored = firstPeriod(d('2026-01-31T00:00:00Z'), 'MONTHLY');
    expect(currentPeriod(stored, 'MONTHLY', d('2026-02-10T00:00:00Z'))).toBe(stored);
    // anchored on the start: after February the 31st comes back where the month has one
    expect(currentPeriod(stored, 'MONTHLY', d('2026-03-31T00:00:00Z'))).toEqual({ start: d('2026-03-31T00:00:00Z'), end: d('2026-04-30T00:00:00Z') });
    expect(currentPeriod(stored, 'MONTHLY', d('2026-03-30T23:59:59Z'))).toEqual({ start: d('2026-02-28T00:00:00Z'), end: d('2026-03-31T00:00:00Z') });
    const annual = firstPeriod(d('2024-02-29T00:00:00Z'), 'ANNUAL');
    expect(currentPeriod(annual, 'ANNUAL', d('2026-06-01T00:00:00Z'))).toEqual({ start: d('2026-02-28T00:00:00Z'), end: d('2027-02-28T00:00:00Z') });
  });

  it('a period stored after a short month (28 February → 31 March) keeps its chain on the 31st', () => {
    expect(anchorDay({ start: d('2026-02-28T00:00:00Z'), end: d('2026-03-31T00:00:00Z') })).toBe(31);
    expect(anchorDay({ start: d('2026-04-30T00:00:00Z'), end: d('2026-05-31T00:00:00Z') })).toBe(31);
    // a chain on the 28th or the 30th stays there
    expect(anchorDay({ start: d('2026-02-28T00:00:00Z'), end: d('2026-03-28T00:00:00Z') })).toBe(28);
    expect(anchorDay({ start: d('2026-05-30T00:00:00Z'), end: d('2026-06-30T00:00:00Z') })).toBe(30);
    expect(anchorDay({ start: d('2026-01-30T00:00:00Z'), end: d('2026-02-28T00:00:00Z') })).toBe(30);
    expect(currentPeriod({ start: d('2026-02-28T00:00:00Z'), end: d('2026-03-31T00:00:00Z') }, 'MONTHLY', d('2026-04-01T00:00:00Z'))).toEqual({
      start: d('2026-03-31T00:00:00Z'),
      end: d('2026-04-30T00:00:00Z'),
    });
  });

  it('storing each rolled period and rolling again gives the same contiguous chain as rolling the first one', () => {
    // (an annual chain on 29 February is the one a stored pair cannot tell: after 28 February → 28 February it stays on the 28th)
    for (const [start, cycle] of [['2026-01-31T09:00:00Z', 'MONTHLY'], ['2026-01-30T09:00:00Z', 'MONTHLY'], ['2025-08-31T00:00:00Z', 'ANNUAL']] as const) {
      const first = firstPeriod(d(start), cycle);
      let stored: Period = first;
      for (let step = 1; step <= 14; step++) {
        const next = currentPeriod(stored, cycle, stored.end);
        expect(next.start).toEqual(stored.end);
        const months = (cycle === 'ANNUAL' ? 12 : 1) * step;
        expect([start, step, next]).toEqual([start, step, currentPeriod(first, cycle, addMonths(d(start), months))]);
        stored = next;
      }
    }
  });
});
