import { silentLogger } from '@tiergraph/testkit';
import { Registry } from 'prom-client';
import { cacheKey, ResponseCache, scopeOf } from './response-cache';

const make = (options: Partial<ConstructorParameters<typeof ResponseCache>[0]> = {}) => {
  let now = 1_000_000;
  const cache = new ResponseCache({ maxEntries: 100, maxBytes: 1_000_000, maxAgeMs: 60_000, logger: silentLogger, registry: new Registry(), now: () => now, ...options });
  cache.setLive(true);
  return { cache, advance: (ms: number) => (now += ms), now: () => now };
};
const answer = (n: number) => ({ data: { n } });

describe('ResponseCache', () => {
  it('stores and answers an entry, and evicts exactly the entries carrying an invalidated tag', () => {
    const { cache } = make();
    expect(cache.store('a', answer(1), ['ms:1:p', 'tiers'], cache.begin())).toBe(true);
    expect(cache.store('b', answer(2), ['ms:2:p', 'tiers'], cache.begin())).toBe(true);
    expect(cache.get('a')?.result).toEqual(answer(1));
    cache.invalidate(['ms:1:p'], 'notify');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.result).toEqual(answer(2));
    cache.invalidate(['tiers'], 'response');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('refuses to store a read during which one of its tags was invalidated (a write committed while it was in flight)', () => {
    const { cache } = make();
    const started = cache.begin();
    cache.invalidate(['ms:1:p'], 'notify');
    expect(cache.store('a', answer(1), ['ms:1:p'], started)).toBe(false);
    // a read of other tags that started at the same time is stored; one that started after is too
    expect(cache.store('b', answer(2), ['ms:2:p'], started)).toBe(true);
    expect(cache.store('c', answer(3), ['ms:1:p'], cache.begin())).toBe(true);
  });

  it('refuses reads older than an invalidation it no longer remembers by tag (the bounded tag map raises a floor)', () => {
    const { cache } = make({ maxTrackedTags: 2 });
    const started = cache.begin();
    cache.invalidate(['x'], 'notify');
    cache.invalidate(['y', 'z'], 'notify'); // x is forgotten
    expect(cache.store('a', answer(1), ['x'], started)).toBe(false);
    expect(cache.store('a', answer(1), ['x'], cache.begin())).toBe(true);
  });

  it('`*` and a lost LISTEN connection clear everything and refuse reads in flight; while down nothing is stored or answered', () => {
    const { cache } = make();
    cache.store('a', answer(1), ['t'], cache.begin());
    const started = cache.begin();
    cache.invalidate(['*'], 'notify');
    expect(cache.size).toBe(0);
    expect(cache.store('b', answer(2), ['u'], started)).toBe(false);

    cache.store('c', answer(3), ['t'], cache.begin());
    cache.setLive(false);
    expect(cache.size).toBe(0);
    expect(cache.store('d', answer(4), ['t'], cache.begin())).toBe(false);
    const duringOutage = cache.begin();
    cache.setLive(true);
    expect(cache.get('c')).toBeUndefined();
    // a read that began while the listener was down may have missed a NOTIFY: not stored once it is back either
    expect(cache.store('e', answer(5), ['t'], duringOutage)).toBe(false);
    expect(cache.store('d', answer(4), ['t'], cache.begin())).toBe(true);
    expect(cache.get('d')?.result).toEqual(answer(4));
  });

  it('is bounded in entries and bytes, and expires entries at the max age or the subgraphs\' expiresAt', () => {
    const byCount = make({ maxEntries: 2 }).cache;
    for (const k of ['a', 'b', 'c']) byCount.store(k, answer(1), ['t'], byCount.begin());
    expect(byCount.size).toBe(2);
    expect(byCount.get('a')).toBeUndefined();

    const bySize = make({ maxBytes: 200 }).cache;
    expect(bySize.store('big', { data: { s: 'x'.repeat(500) } }, ['t'], bySize.begin())).toBe(false);
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) bySize.store(k, { data: { s: 'x'.repeat(40) } }, ['t'], bySize.begin());
    expect(bySize.size).toBeLessThan(6);
    // and bounded by evicting the oldest, not by refusing what fits: the newest entry is kept
    expect(bySize.get('f')).toBeDefined();

    const timed = make({ maxAgeMs: 1000 });
    timed.cache.store('a', answer(1), ['t'], timed.cache.begin());
    timed.cache.store('b', answer(2), ['t'], timed.cache.begin(), timed.now() + 100);
    timed.advance(101);
    expect(timed.cache.get('b')).toBeUndefined();
    expect(timed.cache.get('a')).toBeDefined();
    timed.advance(1000);
    expect(timed.cache.get('a')).toBeUndefined();
    // already expired by the subgraph's word: not stored at all
    expect(timed.cache.store('c', answer(3), ['t'], timed.cache.begin(), timed.now() - 1)).toBe(false);
  });

  it('coalesces misses of one key: one request leads, the others wait for its release (bounded), then look up again', async () => {
    const { cache } = make({ coalesceWaitMs: 1000 });
    expect(await cache.awaitLeader('k')).toBe(false); // nobody fetching: no wait
    const release = cache.lead('k')!;
    expect(release).toBeDefined();
    expect(cache.lead('k')).toBeUndefined(); // one leader per key
    expect(cache.lead('other')).toBeDefined();
    let waited = false;
    const waiter = cache.awaitLeader('k').then((had) => (waited = had));
    await Promise.resolve();
    expect(waited).toBe(false); // still waiting for the leader
    cache.store('k', answer(1), ['t'], cache.begin());
    release();
    await waiter;
    expect(waited).toBe(true);
    expect(cache.get('k')?.result).toEqual(answer(1)); // what the waiter's second lookup finds
    expect(cache.lead('k')).toBeDefined(); // released: the next miss leads

    // a leader that never releases stops counting after coalesceWaitMs: nobody waits on it any more
    const stuck = make({ coalesceWaitMs: 1000 });
    stuck.cache.lead('k');
    stuck.advance(1000);
    expect(await stuck.cache.awaitLeader('k')).toBe(false);
    expect(stuck.cache.lead('k')).toBeDefined();
  });

  it('a waiter whose leader was refused (a write invalidated its tags meanwhile) finds no entry and fetches itself', async () => {
    const { cache } = make();
    const leaderStarted = cache.begin();
    const release = cache.lead('k')!;
    const waiter = cache.awaitLeader('k');
    cache.invalidate(['ms:1:p'], 'response'); // the waiter's own write, answered before it read
    expect(cache.store('k', answer(1), ['ms:1:p'], leaderStarted)).toBe(false);
    release();
    expect(await waiter).toBe(true);
    expect(cache.get('k')).toBeUndefined(); // so the waiter executes: it never gets the leader's older answer
  });

  it('keys by scope, query, operation name and variables, and scopes by every claim that can change an answer', () => {
    const merchant = scopeOf({ role: 'merchant', userId: 'u', merchantId: 'm1' });
    expect(merchant).not.toBe(scopeOf({ role: 'merchant', userId: 'u', merchantId: 'm2' }));
    expect(merchant).not.toBe(scopeOf({ role: 'merchant', userId: 'v', merchantId: 'm1' }));
    expect(scopeOf({ role: 'store', userId: 'u', merchantId: 'm1', storeId: 's1' })).not.toBe(scopeOf({ role: 'store', userId: 'u', merchantId: 'm1', storeId: 's2' }));
    expect(scopeOf({ role: 'admin', userId: 'u' })).not.toBe(scopeOf({ role: 'service', userId: 'u' }));
    // ids holding the separator cannot run into each other
    expect(scopeOf({ role: 'merchant', userId: 'a:b', merchantId: 'c' })).not.toBe(scopeOf({ role: 'merchant', userId: 'a', merchantId: 'b:c' }));
    const key = cacheKey(merchant, 'h', 'Op', { a: 1 });
    expect(key).toBe(cacheKey(merchant, 'h', 'Op', { a: 1 }));
    for (const other of [cacheKey(merchant, 'h2', 'Op', { a: 1 }), cacheKey(merchant, 'h', 'Op2', { a: 1 }), cacheKey(merchant, 'h', 'Op', { a: 2 }), cacheKey('admin:u', 'h', 'Op', { a: 1 })]) {
      expect(other).not.toBe(key);
    }
  });
});
