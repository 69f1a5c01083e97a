import { assertCanReadMerchant, assertCanReadStore, canReadStore, type Caller } from './auth';
import { isUuid } from './db';
import { BadUserInputError, ForbiddenError, NotFoundError } from './errors';
import type { StoreReference } from './features';
import type { StoreDirectory } from './internal-client';
import type { MerchantPlatform, StoreRef } from './keys';

/**
 * The ids of a Store representation that a field @requires, checked before anything is read with them:
 * present (the gateway hands them over), well-formed (NOT_FOUND otherwise, never a failed uuid cast), lower case
 * (how PostgreSQL returns them, so cache keys and notifications match), and readable by the caller. A direct
 * `_entities` call could name any merchant or platform: the merchant must be the caller's (canReadStore), and a
 * store user's token names its store and merchant but not its platform, so that is checked with tenancy.
 */
export async function verifiedStore(caller: Caller, store: StoreReference, directory: StoreDirectory): Promise<StoreRef> {
  for (const field of ['merchantId', 'platformId'] as const) {
    if (!store[field]) throw new BadUserInputError(`the Store representation needs ${field}`, field);
  }
  const ids = { id: store.id, merchantId: store.merchantId!, platformId: store.platformId! };
  if (!isUuid(ids.id) || !isUuid(ids.merchantId) || !isUuid(ids.platformId)) throw new NotFoundError('Store', store.id);
  const verified = { id: ids.id.toLowerCase(), merchantId: ids.merchantId.toLowerCase(), platformId: ids.platformId.toLowerCase() };
  assertCanReadStore(caller, verified);
  if (caller.role === 'store') {
    const known = await directory.get(verified.id);
    if (!known || known.merchantId !== verified.merchantId || known.platformId !== verified.platformId) {
      throw new ForbiddenError('this store belongs to another tenant');
    }
  }
  return verified;
}

/** A merchant and platform pair from a representation or arguments: well-formed and lower case. */
export function merchantPlatform(merchantId: string, platformId: string, entity = 'MerchantSubscription'): MerchantPlatform {
  if (!isUuid(merchantId) || !isUuid(platformId)) throw new NotFoundError(entity, `${merchantId}:${platformId}`);
  return { merchantId: merchantId.toLowerCase(), platformId: platformId.toLowerCase() };
}

/**
 * Whether the caller may change what a store owns (its catalog, orders, media): admins, the merchant that owns the
 * store and that store's users. Services read but never write (`refusal` says what a service cannot do).
 */
export function assertCanWriteStore(caller: Caller, store: { id: string; merchantId: string }, refusal: string): void {
  if (caller.role === 'service') throw new ForbiddenError(`a service cannot ${refusal}`);
  if (!canReadStore(caller, store)) throw new ForbiddenError('this store belongs to another tenant');
}

/** The store a write names, from tenancy, when it exists (NOT_FOUND otherwise) and the caller may write to it. */
export async function writableStore(caller: Caller, directory: StoreDirectory, storeId: string, refusal: string): Promise<StoreRef> {
  const store = isUuid(storeId) ? await directory.get(storeId.toLowerCase()) : null;
  if (!store) throw new NotFoundError('Store', storeId);
  assertCanWriteStore(caller, store, refusal);
  return store;
}

/**
 * A row that belongs to a store (a product, an order, a media file), when the caller may read that store:
 * NOT_FOUND without one, FORBIDDEN when it is another tenant's (`noun` names it in the message).
 */
export function readableStoreRow<T extends { storeId: string; merchantId: string }>(caller: Caller, row: T | null | undefined, entity: string, id: string, noun: string): T {
  if (!row) throw new NotFoundError(entity, id);
  if (!canReadStore(caller, { id: row.storeId, merchantId: row.merchantId })) throw new ForbiddenError(`this ${noun} belongs to another tenant`);
  return row;
}

/** A MerchantSubscription reference a usage contributor resolves: only the key travels, for a caller who may read the merchant. */
export function referencedMerchantPlatform(caller: Caller, key: MerchantPlatform): MerchantPlatform {
  assertCanReadMerchant(caller, key.merchantId);
  return { merchantId: key.merchantId, platformId: key.platformId };
}
