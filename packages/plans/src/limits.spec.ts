import type { Entitlements } from '@tiergraph/runtime';
import { assertWithinLimit, effectiveLimit, isActiveStatus, limitOf, wouldPassLimit } from './limits';

describe('effectiveLimit and limitOf', () => {
  const entitlements: Entitlements = {
    status: 'ACTIVE',
    active: true,
    periodStart: null,
    periodEnd: null,
    features: { a: { limit: 5, enabled: true }, b: { limit: null, enabled: true }, c: { limit: 9, enabled: false } },
  };
  it('is the limit, null for unlimited, and 0 for a disabled or absent feature', () => {
    expect(['a', 'b', 'c', 'd'].map((code) => limitOf(entitlements, code))).toEqual([5, null, 0, 0]);
  });
});

describe('isActiveStatus', () => {
  it('is true for TRIAL, ACTIVE and PAST_DUE only', () => {
    expect((['TRIAL', 'ACTIVE', 'PAST_DUE', 'CANCELLED', 'EXPIRED'] as const).map(isActiveStatus)).toEqual([true, true, true, false, false]);
  });
});

describe('effectiveLimit of one feature', () => {
  it('is 0 without the feature or when disabled, else its limit', () => {
    expect([undefined, null, { limit: 3, enabled: false }, { limit: 3, enabled: true }, { limit: null, enabled: true }].map(effectiveLimit)).toEqual([0, 0, 0, 3, null]);
  });
});

describe('assertWithinLimit', () => {
  it('refuses the one more that would pass the limit, counting only when there is a limit', async () => {
    await expect(assertWithinLimit('max_things', 3, async () => ({ used: 2 }))).resolves.toBeUndefined();
    await expect(assertWithinLimit('max_things', 3, async () => ({ used: 3 }))).rejects.toMatchObject({
      extensions: { code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_things', current: 3, limit: 3 },
    });
    let measured = false;
    await assertWithinLimit('max_things', null, async () => {
      measured = true;
      return { used: 1e9 };
    });
    expect(measured).toBe(false);
  });

  it('compares exactly in smaller units and reports the count in units of the limit, rounded up', async () => {
    const MiB = 1024 * 1024;
    await expect(assertWithinLimit('max_storage_mb', 2, async () => ({ used: BigInt(MiB), adding: BigInt(MiB), unit: MiB }))).resolves.toBeUndefined();
    await expect(assertWithinLimit('max_storage_mb', 2, async () => ({ used: BigInt(MiB + 1), adding: BigInt(MiB), unit: MiB }))).rejects.toMatchObject({
      extensions: { code: 'FEATURE_LIMIT_REACHED', current: 2, limit: 2 },
    });
    await expect(assertWithinLimit('max_storage_mb', 0, async () => ({ used: 0n, adding: 1n, unit: MiB }))).rejects.toMatchObject({
      extensions: { current: 0, limit: 0 },
    });
  });
});

describe('wouldPassLimit', () => {
  it('is the one comparison: used plus what is added past the limit, never for unlimited', () => {
    expect([wouldPassLimit(3, 2), wouldPassLimit(3, 3), wouldPassLimit(10, 4, 7), wouldPassLimit(10, 4, 6), wouldPassLimit(null, 1e9, 1e9)]).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
  });
});
