/** A merchant on a platform: the key of a subscription, of its limits and of everything counted against them. */
export interface MerchantPlatform {
  merchantId: string;
  platformId: string;
}

/** A store with its tenant, as tenancy says (the directory) or as a checked representation names it. */
export interface StoreRef extends MerchantPlatform {
  id: string;
}

/** The one string form of a pair: DataLoader cache keys, group keys, cache entries. */
export const merchantPlatformKey = (pair: MerchantPlatform): string => `${pair.merchantId}:${pair.platformId}`;

/** A store with the merchant it is asked for (a store's reads are checked against its merchant). */
export interface StoreOfMerchant {
  storeId: string;
  merchantId: string;
}

/** The one string form of a store with its merchant: DataLoader cache keys, group keys. */
export const storeOfMerchantKey = (k: StoreOfMerchant): string => `${k.storeId}:${k.merchantId}`;

/** Groups rows under the keys asked for, keeping the keys' order (a key without rows gets an empty list). */
export function groupUnder<T>(keys: readonly string[], rows: readonly T[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key) ?? []);
}

/** The :merchants and :platforms arrays of `(merchant_id, platform_id) IN (SELECT * FROM unnest(…))` for a batch. */
export function pairParameters(pairs: readonly MerchantPlatform[]): { merchants: string[]; platforms: string[] } {
  return { merchants: pairs.map((p) => p.merchantId), platforms: pairs.map((p) => p.platformId) };
}
