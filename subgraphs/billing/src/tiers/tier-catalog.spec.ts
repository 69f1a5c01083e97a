import type { SubscriptionTierEntity, TierFeatureLimitEntity } from '../database/entities';
import { TierCatalog } from './tier-catalog';
import type { TierStore } from './tier-store';

const TIER = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const NEW_TIER = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';

/** A TierStore whose every read is counted, answering the limit it holds when the read is made. */
function fakeStore() {
  const state = { reads: 0, limit: 10, hold: null as null | Promise<void>, newTier: false };
  const store = {
    async everyTier() {
      state.reads++;
      const limit = state.limit;
      if (state.hold) await state.hold;
      return {
        tiers: [
          { id: TIER, code: 'essential', name: 'Essential' },
          ...(state.newTier ? [{ id: NEW_TIER, code: 'newer', name: 'Newer' }] : []),
        ] as SubscriptionTierEntity[],
        limits: [
          { tierId: TIER, featureCode: 'a_feature', limitValue: limit, enabled: true },
          { tierId: TIER, featureCode: 'b_feature', limitValue: null, enabled: false },
        ] as TierFeatureLimitEntity[],
      };
    },
  } as unknown as TierStore;
  return { store, state };
}

const limitOf = async (catalog: TierCatalog) => (await catalog.createLoaders().limitsOfTier.load(TIER))[0].limitValue;

describe('TierCatalog', () => {
  it('reads once while the listener is live, and again after an invalidation', async () => {
    const { store, state } = fakeStore();
    const catalog = new TierCatalog(store, () => true);
    expect(await limitOf(catalog)).toBe(10);
    state.limit = 20;
    expect(await limitOf(catalog)).toBe(10);
    expect(state.reads).toBe(1);
    catalog.invalidate();
    expect(await limitOf(catalog)).toBe(20);
    expect(state.reads).toBe(2);
  });

  it('keeps nothing while the listener is down: every request reads the tables', async () => {
    const { store, state } = fakeStore();
    let live = true;
    const catalog = new TierCatalog(store, () => live);
    expect(await limitOf(catalog)).toBe(10);
    live = false;
    state.limit = 30;
    expect(await limitOf(catalog)).toBe(30);
    state.limit = 31;
    expect(await limitOf(catalog)).toBe(31);
    // back: what was kept before the loss is not trusted
    live = true;
    state.limit = 32;
    expect(await limitOf(catalog)).toBe(32);
    expect(state.reads).toBe(4);
  });

  it('does not keep a read that was in flight when a change was notified', async () => {
    const { store, state } = fakeStore();
    const catalog = new TierCatalog(store, () => true);
    let release!: () => void;
    state.hold = new Promise((resolve) => (release = resolve));
    const inFlight = limitOf(catalog);
    while (state.reads === 0) await new Promise((resolve) => setImmediate(resolve));
    catalog.invalidate();
    state.hold = null;
    state.limit = 40;
    release();
    expect(await inFlight).toBe(10);
    expect(await limitOf(catalog)).toBe(40);
  });

  it('answers tiers and limits by id regardless of case, each tier’s limits in the order read, none for an unknown tier', async () => {
    const { store } = fakeStore();
    const loaders = new TierCatalog(store, () => true).createLoaders();
    expect((await loaders.tierById.load(TIER.toUpperCase()))?.code).toBe('essential');
    expect(await loaders.tierById.load('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb')).toBeNull();
    expect((await loaders.limitsOfTier.load(TIER)).map((l) => l.featureCode)).toEqual(['a_feature', 'b_feature']);
    expect(await loaders.limitsOfTier.load('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb')).toEqual([]);
  });

  it('reads again for a tier it does not have (created after it was read, its NOTIFY not here yet)', async () => {
    const { store, state } = fakeStore();
    const catalog = new TierCatalog(store, () => true);
    expect(await limitOf(catalog)).toBe(10);
    state.newTier = true;
    expect((await catalog.createLoaders().tierById.load(NEW_TIER))?.code).toBe('newer');
    expect(state.reads).toBe(2);
    // and keeps that read
    expect((await catalog.createLoaders().tierById.load(NEW_TIER))?.code).toBe('newer');
    expect(state.reads).toBe(2);
  });

  it('reads once for a tier it lacks while the listener is down (that read was made for the request), and reads again for one a kept snapshot lacks', async () => {
    const { store, state } = fakeStore();
    let live = false;
    const catalog = new TierCatalog(store, () => live);
    expect(await catalog.createLoaders().tierById.load(NEW_TIER)).toBeNull();
    expect(state.reads).toBe(1);
    live = true;
    expect(await catalog.createLoaders().tierById.load(TIER)).not.toBeNull(); // kept from here on
    expect(state.reads).toBe(2);
    expect(await catalog.createLoaders().tierById.load(NEW_TIER)).toBeNull(); // a kept snapshot lacks it: read again
    expect(state.reads).toBe(3);
  });
});

