import { randomUUID } from 'node:crypto';
import type { Caller } from './auth';
import type { StoreDirectory } from './internal-client';
import type { StoreRef } from './keys';
import { merchantPlatform, verifiedStore } from './representations';

/** Tenancy's answer for a store, as StoreDirectory gives it; `asked` counts the look-ups. */
function directoryOf(stores: StoreRef[]): StoreDirectory & { asked: number } {
  const directory = {
    asked: 0,
    async get(id: string) {
      directory.asked++;
      return stores.find((s) => s.id === id) ?? null;
    },
  };
  return directory as unknown as StoreDirectory & { asked: number };
}

const store: StoreRef = { id: randomUUID(), merchantId: randomUUID(), platformId: randomUUID() };
const otherPlatform = randomUUID();
const storeUser: Caller = { role: 'store', userId: 'u', merchantId: store.merchantId, storeId: store.id };
const merchant: Caller = { role: 'merchant', userId: 'm', merchantId: store.merchantId };
const codeOf = (promise: Promise<unknown>) => promise.then(() => 'ok', (e: { extensions?: { code?: string; field?: string } }) => [e.extensions?.code, e.extensions?.field ?? null]);

describe('verifiedStore: the ids of a Store representation, checked before use', () => {
  it('needs merchantId and platformId, naming the missing one', async () => {
    expect(await codeOf(verifiedStore(merchant, { id: store.id, platformId: store.platformId }, directoryOf([store])))).toEqual(['BAD_USER_INPUT', 'merchantId']);
    expect(await codeOf(verifiedStore(merchant, { id: store.id, merchantId: store.merchantId }, directoryOf([store])))).toEqual(['BAD_USER_INPUT', 'platformId']);
  });

  it.each(['id', 'merchantId', 'platformId'] as const)('a malformed %s is NOT_FOUND (never a failed uuid cast)', async (field) => {
    expect(await codeOf(verifiedStore({ role: 'admin', userId: 'a' }, { ...store, [field]: 'not-a-uuid' }, directoryOf([store])))).toEqual(['NOT_FOUND', null]);
  });

  it('answers the ids in lower case', async () => {
    const upper = { id: store.id.toUpperCase(), merchantId: store.merchantId.toUpperCase(), platformId: store.platformId.toUpperCase() };
    expect(await verifiedStore({ role: 'admin', userId: 'a' }, upper, directoryOf([store]))).toEqual(store);
  });

  it('a store user gets only its own store, on its own platform, as tenancy knows it', async () => {
    const directory = directoryOf([store]);
    expect(await verifiedStore(storeUser, store, directory)).toEqual(store);
    expect(await codeOf(verifiedStore(storeUser, { ...store, platformId: otherPlatform }, directory))).toEqual(['FORBIDDEN', null]);
    const unknown = { ...store, id: randomUUID() };
    expect(await codeOf(verifiedStore({ ...storeUser, storeId: unknown.id }, unknown, directory))).toEqual(['FORBIDDEN', null]);
    const elsewhere = directoryOf([{ ...store, merchantId: randomUUID() }]);
    expect(await codeOf(verifiedStore(storeUser, store, elsewhere))).toEqual(['FORBIDDEN', null]);
  });

  it('a merchant is checked by its token alone (tenancy is not asked); another merchant is refused', async () => {
    const directory = directoryOf([]);
    expect(await verifiedStore(merchant, { ...store, platformId: otherPlatform }, directory)).toEqual({ ...store, platformId: otherPlatform });
    expect(directory.asked).toBe(0);
    expect(await codeOf(verifiedStore({ ...merchant, merchantId: randomUUID() }, store, directory))).toEqual(['FORBIDDEN', null]);
  });
});

describe('merchantPlatform', () => {
  it('is the pair in lower case; a malformed half is NOT_FOUND of the entity named', async () => {
    expect(merchantPlatform(store.merchantId.toUpperCase(), store.platformId.toUpperCase())).toEqual({ merchantId: store.merchantId, platformId: store.platformId });
    for (const [m, p] of [['x', store.platformId], [store.merchantId, 'y']]) {
      expect(() => merchantPlatform(m, p, 'Thing')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND', entity: 'Thing' }) }));
    }
  });
});
