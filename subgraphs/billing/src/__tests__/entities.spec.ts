import { randomUUID } from 'node:crypto';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTenants, createTestDatabase, errorCodes, postGraphQL, startTestSubgraphs, tokenFor, type TestDatabase, type Tenants } from '@tiergraph/testkit';
import { billingSubgraph } from '../index';

const ENTITIES = `query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on SubscriptionTier { code name priceMonthlyCents currency isActive }
  }
}`;

const ref = (code: string) => ({ __typename: 'SubscriptionTier', code });

describe('billing: the SubscriptionTier entity', () => {
  let db: TestDatabase;
  let running: RunningSubgraph;
  let tenancy: RunningSubgraph;
  /** Real tenants: a store token is accepted only for a store of its merchant (tenancy says which). */
  let tenants: Tenants;

  async function insertTier(code: string, name: string, priceMonthlyCents: number, isActive = true): Promise<void> {
    await running.dataSource.query(
      `INSERT INTO billing.subscription_tiers (code, name, price_monthly_cents, is_active) VALUES ($1, $2, $3, $4)`,
      [code, name, priceMonthlyCents, isActive],
    );
  }

  const resolve = async (codes: string[], token?: string) =>
    postGraphQL(running.url, { query: ENTITIES, variables: { r: codes.map(ref) } }, { token });

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ tenancy, billing: running } = await startTestSubgraphs({ tenancy: tenancySubgraph, billing: billingSubgraph }, db.url));
    tenants = await createTenants(tenancy.url);
    // the billing issue seeds the real tiers: these exist for this test only
    await insertTier('test_basic', 'Basic', 0);
    await insertTier('test-pro', 'Pro', 4900, false);
  });

  afterAll(async () => {
    await running?.stop();
    await tenancy?.stop();
    await db?.drop();
  });

  it('lets every role resolve tiers by code, in the order asked', async () => {
    const tokens = [await tokenFor({ role: 'admin' }), await tokenFor({ role: 'service' }), tenants.tokens.merchant1, tenants.tokens.store1];
    for (const token of tokens) {
      const res = await resolve(['test-pro', 'test_basic'], token);
      expect(res.errors).toBeUndefined();
      expect(res.data?._entities).toEqual([
        { code: 'test-pro', name: 'Pro', priceMonthlyCents: 4900, currency: 'EUR', isActive: false },
        { code: 'test_basic', name: 'Basic', priceMonthlyCents: 0, currency: 'EUR', isActive: true },
      ]);
    }
  });

  it('answers TIER_NOT_FOUND for an unknown code and for a malformed one', async () => {
    const res = await resolve(['no-such-tier', 'Not A Code', 'test_basic'], await tokenFor({ role: 'merchant', merchantId: randomUUID() }));
    expect(errorCodes(res)).toEqual(['TIER_NOT_FOUND', 'TIER_NOT_FOUND']);
    expect(res.data?._entities).toEqual([null, null, expect.objectContaining({ code: 'test_basic' })]);
  });

  it('answers UNAUTHENTICATED (401) without a token', async () => {
    const res = await resolve(['test_basic']);
    expect(res.status).toBe(401);
    expect(errorCodes(res)).toEqual(['UNAUTHENTICATED']);
  });

  it('keeps codes unique and well-formed, prices non-negative', async () => {
    await expect(insertTier('test_basic', 'Again', 0)).rejects.toMatchObject({ constraint: 'subscription_tiers_code_key' });
    await expect(insertTier('Bad Code', 'Bad', 0)).rejects.toMatchObject({ constraint: 'subscription_tiers_code_format' });
    await expect(insertTier('test-neg', 'Neg', -1)).rejects.toMatchObject({ constraint: 'subscription_tiers_price_monthly_cents_check' });
  });
});
