import { randomUUID } from 'node:crypto';
import { postGraphQL, tokenFor, type GraphQLResponse } from './client';

/** Tenancy and billing as these tests set them up: through their GraphQL, with an admin token. */
export const setupOps = {
  createPlatform: `mutation($input: CreatePlatformInput!) { createPlatform(input: $input) { id code } }`,
  createMerchant: `mutation($input: CreateMerchantInput!) { createMerchant(input: $input) { id } }`,
  createStore: `mutation($input: CreateStoreInput!) { createStore(input: $input) { id merchant { id } platform { id } } }`,
  updateSubscription: `mutation($merchantId: ID!, $platformId: ID!, $input: UpdateMerchantSubscriptionInput!) {
    updateMerchantSubscription(merchantId: $merchantId, platformId: $platformId, input: $input) { id status currentPeriodStart currentPeriodEnd }
  }`,
  setOverrides: `mutation($merchantId: ID!, $platformId: ID!, $overrides: [MerchantFeatureOverrideInput!]!) {
    setMerchantFeatureOverrides(merchantId: $merchantId, platformId: $platformId, overrides: $overrides) { featureCode limitValue isEnabled }
  }`,
  featureCatalog: `{ featureCatalog { category features { code name description featureType scope unit } } }`,
};

export async function expectData<T = any>(response: Promise<GraphQLResponse> | GraphQLResponse): Promise<T> {
  const r = await response;
  if (r.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(r.errors)}`);
  return r.data as T;
}

/** Tenancy's side of a test world: a platform, three merchants and their stores, and a token for each kind of caller. */
export interface Tenants {
  platformId: string;
  /** m1 owns s1 and s1b, m2 owns s2, m3 owns s3. */
  m1: string;
  m2: string;
  m3: string;
  s1: string;
  s1b: string;
  s2: string;
  s3: string;
  tokens: Record<'admin' | 'service' | 'merchant1' | 'merchant2' | 'store1' | 'store1b' | 'store2' | 'merchant3', string>;
}

export interface World extends Tenants {
  period: { start: string; end: string };
}

/**
 * Real tenants in tenancy (through its GraphQL, with an admin token): subgraphs accept a store token only for a store
 * of the token's merchant, so a test's store tokens name stores tenancy has.
 */
export async function createTenants(tenancyUrl: string): Promise<Tenants> {
  const admin = await tokenFor({ role: 'admin' });
  const tenancy = (query: string, variables: Record<string, unknown>) => expectData(postGraphQL(tenancyUrl, { query, variables }, { token: admin }));
  const suffix = randomUUID().slice(0, 8);
  const platformId = (await tenancy(setupOps.createPlatform, { input: { code: `p-${suffix}`, name: 'Platform' } })).createPlatform.id;
  const merchant = async (n: string) =>
    (await tenancy(setupOps.createMerchant, { input: { name: `Merchant ${n}`, email: `${n}-${suffix}@example.com` } })).createMerchant.id as string;
  const [m1, m2, m3] = [await merchant('one'), await merchant('two'), await merchant('three')];
  const store = async (merchantId: string, code: string) =>
    (await tenancy(setupOps.createStore, { input: { merchantId, platformId, code: `${code}-${suffix}`, name: code } })).createStore.id as string;
  const [s1, s1b, s2, s3] = [await store(m1, 's1'), await store(m1, 's1b'), await store(m2, 's2'), await store(m3, 's3')];
  return {
    platformId,
    m1,
    m2,
    m3,
    s1,
    s1b,
    s2,
    s3,
    tokens: {
      admin,
      service: await tokenFor({ role: 'service' }),
      merchant1: await tokenFor({ role: 'merchant', merchantId: m1 }),
      merchant2: await tokenFor({ role: 'merchant', merchantId: m2 }),
      merchant3: await tokenFor({ role: 'merchant', merchantId: m3 }),
      store1: await tokenFor({ role: 'store', merchantId: m1, storeId: s1 }),
      store1b: await tokenFor({ role: 'store', merchantId: m1, storeId: s1b }),
      store2: await tokenFor({ role: 'store', merchantId: m2, storeId: s2 }),
    },
  };
}

/** createTenants, and ACTIVE essential subscriptions for m1 and m2 (billing); m3 has no subscription. */
export async function createWorld(urls: { tenancy: string; billing: string }): Promise<World> {
  const tenants = await createTenants(urls.tenancy);
  const subscription = await subscribe(urls.billing, tenants.m1, tenants.platformId);
  await subscribe(urls.billing, tenants.m2, tenants.platformId);
  return { ...tenants, period: { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd } };
}

export async function subscribe(
  billingUrl: string,
  merchantId: string,
  platformId: string,
  input: Record<string, unknown> = { tierCode: 'essential', status: 'ACTIVE', billingCycle: 'MONTHLY' },
): Promise<{ id: string; status: string; currentPeriodStart: string; currentPeriodEnd: string }> {
  const data = await expectData(
    postGraphQL(billingUrl, { query: setupOps.updateSubscription, variables: { merchantId, platformId, input } }, { token: await tokenFor({ role: 'admin' }) }),
  );
  return data.updateMerchantSubscription;
}

/** A per-merchant limit through billing's overrides. */
export async function overrideLimit(billingUrl: string, merchantId: string, platformId: string, featureCode: string, limitValue: number | null): Promise<void> {
  await expectData(
    postGraphQL(
      billingUrl,
      { query: setupOps.setOverrides, variables: { merchantId, platformId, overrides: [{ featureCode, limitValue, isEnabled: true }] } },
      { token: await tokenFor({ role: 'admin' }) },
    ),
  );
}
