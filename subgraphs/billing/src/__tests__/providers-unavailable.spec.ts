import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import {
  createTestDatabase,
  createWorld,
  errorCodes,
  freePort,
  postGraphQL,
  startTestSubgraph,
  startTestSubgraphs,
  type TestDatabase,
  type World,
} from '@tiergraph/testkit';
import { createBillingSubgraph } from '../index';

/**
 * What the README promises when a provider cannot be reached: Stripe down is PAYMENT_PROVIDER_UNAVAILABLE, tenancy
 * down (for a store billing has not seen yet) is TENANCY_UNAVAILABLE; nothing is written either way.
 * Stripe's address is a port on which nothing listens: a real connection that is refused.
 */
let db: TestDatabase;
let running: Record<'billing' | 'tenancy', RunningSubgraph>;
let w: World;

const stripeSettings = async () => ({
  secretKey: 'sk_test_unreachable',
  webhookSecret: 'whsec_unreachable',
  apiBase: `http://127.0.0.1:${await freePort()}`,
  trialDays: 14,
  returnUrl: 'http://localhost:3000/billing',
});

const SUBSCRIBE_PRICE = `mutation { updateSubscriptionTier(code: "essential", input: { stripePriceMonthlyId: "price_essential" }) { code } }`;

beforeAll(async () => {
  db = await createTestDatabase();
  running = await startTestSubgraphs({ billing: createBillingSubgraph({ stripe: await stripeSettings() }), tenancy: tenancySubgraph }, db.url);
  w = await createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });
  expect((await postGraphQL(running.billing.url, { query: SUBSCRIBE_PRICE }, { token: w.tokens.admin })).errors).toBeUndefined();
  // m1 pays through Stripe (as a completed checkout would have left it); m2 has not paid yet
  await running.billing.dataSource.query(`UPDATE billing.merchant_subscriptions SET stripe_subscription_id = 'sub_m1', cancel_at_period_end = true WHERE merchant_id = $1`, [w.m1]);
  await running.billing.dataSource.query(`INSERT INTO billing.stripe_customers (merchant_id, stripe_customer_id) VALUES ($1, 'cus_m1')`, [w.m1]);
});

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await db?.drop();
});

async function billingRows() {
  const q = (sql: string) => running.billing.dataSource.query(sql);
  return {
    subscriptions: await q(`SELECT * FROM billing.merchant_subscriptions ORDER BY id`),
    history: await q(`SELECT count(*)::int AS n FROM billing.subscription_history`),
    customers: await q(`SELECT * FROM billing.stripe_customers ORDER BY merchant_id`),
    addOns: await q(`SELECT count(*)::int AS n FROM billing.store_add_ons`),
  };
}

it('answers PAYMENT_PROVIDER_UNAVAILABLE for every Stripe-backed mutation when Stripe cannot be reached, writing nothing', async () => {
  const before = await billingRows();
  const attempts: Array<[string, string, string]> = [
    ['createCheckoutSession', `mutation { createCheckoutSession(storeId: "${w.s2}", tierCode: "essential", billingCycle: MONTHLY) { sessionId } }`, w.tokens.merchant2],
    ['createPortalSession', `mutation { createPortalSession(storeId: "${w.s1}") { url } }`, w.tokens.merchant1],
    ['changeSubscriptionTier', `mutation { changeSubscriptionTier(storeId: "${w.s1}", tierCode: "essential") { id } }`, w.tokens.merchant1],
    ['cancelSubscription', `mutation { cancelSubscription(storeId: "${w.s1}") { id } }`, w.tokens.merchant1],
    ['cancelSubscription now', `mutation { cancelSubscription(storeId: "${w.s1}", immediately: true) { id } }`, w.tokens.merchant1],
    ['reactivateSubscription', `mutation { reactivateSubscription(storeId: "${w.s1}") { id } }`, w.tokens.merchant1],
    ['purchaseAddOn', `mutation { purchaseAddOn(storeId: "${w.s1}", addOnCode: "domain", domainName: "shop.example.com") { sessionId } }`, w.tokens.merchant1],
  ];
  await running.billing.dataSource.query(`UPDATE billing.add_on_products SET stripe_price_id = 'price_domain' WHERE code = 'domain'`);
  const outcomes: Record<string, string[]> = {};
  for (const [name, query, token] of attempts) outcomes[name] = errorCodes(await postGraphQL(running.billing.url, { query }, { token }));
  expect(outcomes).toEqual(Object.fromEntries(attempts.map(([name]) => [name, ['PAYMENT_PROVIDER_UNAVAILABLE']])));
  expect(await billingRows()).toEqual(before);
});

it('answers TENANCY_UNAVAILABLE, writing nothing, when tenancy is down for a store billing has not looked up yet', async () => {
  // a billing whose tenancy is a port on which nothing listens: its store directory is empty
  const blind = await startTestSubgraph(createBillingSubgraph({ stripe: await stripeSettings() }), db.url, {
    urls: { tenancy: `http://127.0.0.1:${await freePort()}/graphql` },
  });
  try {
    const before = await billingRows();
    const checkout = await postGraphQL(
      blind.url,
      { query: `mutation { createCheckoutSession(storeId: "${w.s2}", tierCode: "essential", billingCycle: MONTHLY) { sessionId } }` },
      { token: w.tokens.merchant2 },
    );
    expect(errorCodes(checkout)).toEqual(['TENANCY_UNAVAILABLE']);
    expect(checkout.errors?.[0].message).toMatch(/tenancy/);
    // a store user's token is confirmed with tenancy before anything runs: the whole request is refused
    const usage = await postGraphQL(
      blind.url,
      { query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { subscription { id } } } }`, variables: { r: [{ __typename: 'Store', id: w.s2, merchantId: w.m2, platformId: w.platformId }] } },
      { token: w.tokens.store2 },
    );
    expect(errorCodes(usage)).toEqual(['TENANCY_UNAVAILABLE']);
    expect(usage.errors?.[0].extensions?.retryable).toBe(true);
    expect(usage.data ?? null).toBeNull();
    expect(await billingRows()).toEqual(before);
  } finally {
    await blind.stop();
  }
});
