import { EntitlementCache, type Entitlements, type EntitlementSource } from './entitlements';

function countingSource(periodEnd: string | null = null) {
  const calls: string[] = [];
  const source: EntitlementSource = {
    async get(merchantId, platformId) {
      calls.push(`${merchantId}:${platformId}`);
      return { status: 'ACTIVE', active: true, periodStart: null, periodEnd, features: { max_products: { limit: calls.length, enabled: true } } } satisfies Entitlements;
    },
  };
  return { source, calls };
}

describe('EntitlementCache', () => {
  it('shares one fetch between concurrent misses and serves hits from memory while the listener is live', async () => {
    const { source, calls } = countingSource();
    const cache = new EntitlementCache(source);
    cache.setLive(true);
    const [a, b] = await Promise.all([cache.get('m', 'p'), cache.get('m', 'p')]);
    expect(a).toBe(b);
    await cache.get('m', 'p');
    expect(calls).toEqual(['m:p']);
  });

  it('drops one pair on its notification and everything on { all: true }', async () => {
    const { source, calls } = countingSource();
    const cache = new EntitlementCache(source);
    cache.setLive(true);
    await cache.get('m1', 'p');
    await cache.get('m2', 'p');
    cache.invalidate({ merchantId: 'm1', platformId: 'p' });
    await cache.get('m1', 'p');
    await cache.get('m2', 'p');
    cache.invalidate({ all: true });
    await cache.get('m2', 'p');
    expect(calls).toEqual(['m1:p', 'm2:p', 'm1:p', 'm2:p']);
  });

  it('caches nothing while the listener is down (a TTL alone is not invalidation)', async () => {
    const { source, calls } = countingSource();
    const cache = new EntitlementCache(source);
    await cache.get('m', 'p');
    await cache.get('m', 'p');
    expect(calls).toHaveLength(2);
  });

  it('refetches once the cached billing period has ended', async () => {
    const { source, calls } = countingSource('2026-01-01T00:00:00.000Z');
    let now = Date.parse('2025-12-31T23:59:59.000Z');
    const cache = new EntitlementCache(source, () => now);
    cache.setLive(true);
    await cache.get('m', 'p');
    await cache.get('m', 'p');
    now = Date.parse('2026-01-01T00:00:00.000Z');
    await cache.get('m', 'p');
    expect(calls).toHaveLength(2);
  });

  it('forgets a failed fetch so the next request asks again', async () => {
    let fail = true;
    const cache = new EntitlementCache({
      get: async () => {
        if (fail) throw new Error('billing down');
        return { status: null, active: false, periodStart: null, periodEnd: null, features: {} };
      },
    });
    cache.setLive(true);
    await expect(cache.get('m', 'p')).rejects.toThrow('billing down');
    fail = false;
    await expect(cache.get('m', 'p')).resolves.toMatchObject({ active: false });
  });
});
