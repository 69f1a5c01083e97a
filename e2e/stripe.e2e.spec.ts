import { randomUUID } from 'node:crypto';
import { createBillingSubgraph } from '@tiergraph/billing';
import { startStripeLocal, type StripeLocal } from '@tiergraph/stripe-local';
import { errorCodes, postGraphQL, recordSqlStatements, tokenFor } from '@tiergraph/testkit';
import Stripe from 'stripe';
import { startTestGraph, type TestGraph, contractCaller } from './graph';

/**
 * The whole paid flow through the gateway: the real stripe SDK in billing talks HTTP to the local stand-in, which
 * completes checkouts and sends signed webhooks to billing's sidecar.
 */
let graph: TestGraph;
let stripeLocal: StripeLocal;
let admin: string;
let prices: Record<string, string>;

const { send, ok } = contractCaller(() => graph, () => admin);

async function shop() {
  const n = randomUUID().slice(0, 8);
  const platform = (await ok('CreatePlatform', { input: { code: `p-${n}`, name: 'P' } })).createPlatform;
  const merchant = (await ok('CreateMerchant', { input: { name: `Paying ${n}`, email: `pay-${n}@example.com` } })).createMerchant;
  const store = (await ok('CreateStore', { input: { merchantId: merchant.id, platformId: platform.id, code: 'main', name: 'Main' } })).createStore;
  return {
    platform,
    merchant,
    store,
    /** the merchant manages its billing */
    token: await tokenFor({ role: 'merchant', merchantId: merchant.id }),
    storeUser: await tokenFor({ role: 'store', merchantId: merchant.id, storeId: store.id }),
  };
}

beforeAll(async () => {
  stripeLocal = await startStripeLocal({ webhookSecret: 'whsec_e2e' });
  graph = await startTestGraph({
    billing: createBillingSubgraph({
      stripe: { secretKey: 'sk_test_e2e', webhookSecret: 'whsec_e2e', apiBase: stripeLocal.url, trialDays: 14, returnUrl: 'http://localhost:3000/billing' },
    }) as never,
  });
  // through the gateway, the deployment's one public port: it forwards the raw body and signature to billing
  stripeLocal.setWebhookUrl(`${graph.origin}/webhooks/stripe`);
  admin = await tokenFor({ role: 'admin' });

  // the operator creates the prices in Stripe and puts their ids on the tiers and add-ons
  const stripe = new Stripe('sk_test_e2e', { host: '127.0.0.1', port: stripeLocal.port, protocol: 'http' });
  prices = {};
  for (const [code, cents] of [['essential', 4900], ['business', 19900]] as const) {
    prices[code] = (await stripe.prices.create({ currency: 'eur', unit_amount: cents, recurring: { interval: 'month' }, product_data: { name: code } })).id;
    await ok('UpdateSubscriptionTier', { code, input: { stripePriceMonthlyId: prices[code] } });
  }
  const domain = await stripe.prices.create({ currency: 'eur', unit_amount: 1500, recurring: { interval: 'year' }, product_data: { name: 'Custom Domain' } });
  await graph.subgraphs.billing.dataSource.query(`UPDATE billing.add_on_products SET stripe_price_id = $1 WHERE code = 'domain'`, [domain.id]);
});

afterAll(async () => {
  await graph?.stop();
  await stripeLocal?.stop();
});

describe('paying through Stripe (the local stand-in)', () => {
  it('checkout → completed → signed webhooks → ACTIVE on the chosen tier with the invoice listed; change tier with proration; cancel; reactivate', async () => {
    const s = await shop();
    const checkout = (await ok('CreateCheckoutSession', { storeId: s.store.id, tierCode: 'essential', billingCycle: 'MONTHLY' }, s.token)).createCheckoutSession;
    expect(checkout.sessionId).toMatch(/^cs_/);
    expect(checkout.url).toContain(stripeLocal.url);

    const completion = await stripeLocal.completeCheckout(checkout.sessionId);
    await stripeLocal.settled();
    // exactly these events, each answered 200 (a map of statuses compared with itself passed when nothing was sent)
    expect(completion.deliveries.map((d) => [d.type, d.status])).toEqual([
      ['checkout.session.completed', 200],
      ['customer.subscription.created', 200],
    ]);

    // the merchant's first subscription starts with the trial, and nothing is charged yet
    const trial = (await ok('StoreBilling', { storeId: s.store.id }, s.token)).store;
    expect(trial.subscription).toMatchObject({ status: 'TRIAL', tier: { code: 'essential' } });
    expect(Math.round((Date.parse(trial.subscription.trialEndsAt) - Date.now()) / 86_400_000)).toBe(14);
    expect(trial.invoices).toEqual([]);

    // Stripe ends the trial, charges the first period, and tells billing
    const advance = await stripeLocal.advanceClock(15 * 86_400);
    await stripeLocal.settled();
    expect(advance.deliveries.map((d) => [d.type, d.status])).toEqual([
      ['customer.subscription.trial_will_end', 200],
      ['customer.subscription.updated', 200],
      ['invoice.paid', 200],
    ]);
    const billing = (await ok('StoreBilling', { storeId: s.store.id }, s.storeUser)).store;
    expect(billing.subscription).toMatchObject({ status: 'ACTIVE', billingCycle: 'MONTHLY', tier: { code: 'essential' }, cancelAtPeriodEnd: false });
    expect(billing.invoices).toHaveLength(1);
    expect(billing.invoices[0]).toMatchObject({ status: 'paid', amountPaidCents: 4900, currency: 'EUR' });

    // a store user sees the store's billing but does not manage the merchant's subscription
    expect(errorCodes(await send('CancelSubscription', { storeId: s.store.id }, s.storeUser))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await send('CreateCheckoutSession', { storeId: s.store.id, tierCode: 'business', billingCycle: 'MONTHLY' }, s.token))).toEqual(['BAD_USER_INPUT']);

    // a month later Stripe renews and charges again; invoices page by the last id seen, newest first
    const renewal = await stripeLocal.advanceClock(31 * 86_400);
    await stripeLocal.settled();
    expect(renewal.deliveries.map((d) => [d.type, d.status])).toEqual([
      ['customer.subscription.updated', 200],
      ['invoice.paid', 200],
    ]);
    const pageQuery = `query($s: ID!, $after: ID) { store(id: $s) { invoices(first: 1, after: $after) { id } } }`;
    const page = async (after?: string) =>
      (await postGraphQL(graph.gateway.url, { query: pageQuery, variables: { s: s.store.id, after } }, { token: s.token })).data?.store.invoices as Array<{ id: string }>;
    const firstPage = await page();
    const secondPage = await page(firstPage[0].id);
    expect([firstPage.length, secondPage.length]).toEqual([1, 1]);
    expect(secondPage[0].id).not.toBe(firstPage[0].id);
    expect(await page(secondPage[0].id)).toEqual([]);

    // the portal for the customer the checkout created
    expect((await ok('CreatePortalSession', { storeId: s.store.id }, s.token)).createPortalSession.url).toContain(stripeLocal.url);

    // upgrade with proration, previewed by the upcoming invoice
    const changed = (await ok('ChangeSubscriptionTier', { storeId: s.store.id, tierCode: 'business' }, s.token)).changeSubscriptionTier;
    expect(changed.tier.code).toBe('business');
    const upcoming = (await ok('UpcomingInvoice', { storeId: s.store.id }, s.token)).store.upcomingInvoice;
    expect(upcoming.currency).toBe('EUR');
    expect(upcoming.lines.some((l: { amountCents: number }) => l.amountCents < 0)).toBe(true); // credit for unused essential time
    expect(upcoming.lines.some((l: { amountCents: number }) => l.amountCents === 19900)).toBe(true); // next period on business
    expect(upcoming.amountDueCents).toBe(upcoming.lines.reduce((sum: number, l: { amountCents: number }) => sum + l.amountCents, 0));

    const cancelled = (await ok('CancelSubscription', { storeId: s.store.id, reason: 'too expensive' }, s.token)).cancelSubscription;
    expect(cancelled).toMatchObject({ status: 'ACTIVE', cancelAtPeriodEnd: true });
    const stripeSubscription = () => [...stripeLocal.state.subscriptions.values()].find((sub) => sub.metadata?.merchantId === s.merchant.id)!;
    expect(stripeSubscription().cancel_at_period_end).toBe(true);
    expect((await ok('ReactivateSubscription', { storeId: s.store.id }, s.token)).reactivateSubscription).toMatchObject({ cancelAtPeriodEnd: false });
    expect(stripeSubscription().cancel_at_period_end).toBe(false);
    expect(errorCodes(await send('ReactivateSubscription', { storeId: s.store.id }, s.token))).toEqual(['SUBSCRIPTION_NOT_CANCELLED']);

    // a downgrade past current usage is allowed and recorded; creation stays blocked until usage is under the limit
    const members = [];
    for (const email of ['m1@pay.test', 'm2@pay.test']) {
      members.push((await ok('AddStoreUser', { input: { storeId: s.store.id, email, role: 'MEMBER' } })).addStoreUser);
    }
    expect((await ok('ChangeSubscriptionTier', { storeId: s.store.id, tierCode: 'essential' }, s.token)).changeSubscriptionTier.tier.code).toBe('essential');
    const blocked = await send('AddStoreUser', { input: { storeId: s.store.id, email: 'm3@pay.test', role: 'MEMBER' } });
    expect(blocked.errors?.[0]?.extensions).toMatchObject({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_team_members', current: 2, limit: 1 });
    for (const member of members) await ok('DeactivateStoreUser', { id: member.id });
    await ok('AddStoreUser', { input: { storeId: s.store.id, email: 'm3@pay.test', role: 'MEMBER' } });

    // Stripe's refusals come back as PAYMENT_PROVIDER_ERROR, with nothing changed here
    const input = { code: `gone-${randomUUID().slice(0, 6)}`, name: 'Gone', priceMonthlyCents: 100, stripePriceMonthlyId: 'price_missing' };
    const gone = (await ok('CreateSubscriptionTier', { input })).createSubscriptionTier.code;
    const refused = await send('ChangeSubscriptionTier', { storeId: s.store.id, tierCode: gone }, s.token);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'PAYMENT_PROVIDER_ERROR', stripeCode: 'resource_missing' });
    expect((await ok('StoreBilling', { storeId: s.store.id }, s.token)).store.subscription.tier.code).toBe('essential');

    const { merchant } = await ok('MerchantFeatures', { merchantId: s.merchant.id, platformId: s.platform.id });
    // newest first, every entry (arrayContaining passed with entries missing or extra)
    expect(merchant.subscription.history.map((h: { change: string; fromTierCode: string | null; toTierCode: string | null }) => [h.change, h.fromTierCode, h.toTierCode])).toEqual([
      ['DOWNGRADE', 'business', 'essential'],
      ['STATUS_CHANGE', null, null],
      ['STATUS_CHANGE', null, null],
      ['UPGRADE', 'essential', 'business'],
      ['STATUS_CHANGE', null, null],
      ['TRIAL_STARTED', null, null],
      ['CREATED', null, 'essential'],
    ]);

    const now = (await ok('CancelSubscription', { storeId: s.store.id, immediately: true }, s.token)).cancelSubscription;
    expect(now).toMatchObject({ status: 'CANCELLED' });
    expect(stripeSubscription().status).toBe('canceled');

  });

  it('buys an add-on: the completed checkout creates the store add-on; bad domain names and quantities are refused', async () => {
    const s = await shop();
    expect((await send('PurchaseAddOn', { storeId: s.store.id, addOnCode: 'domain', domainName: 'not a domain' }, s.token)).errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'domainName',
    });
    expect((await send('PurchaseAddOn', { storeId: s.store.id, addOnCode: 'domain', quantity: 0, domainName: 'shop.example.com' }, s.token)).errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'quantity',
    });
    expect(errorCodes(await send('PurchaseAddOn', { storeId: s.store.id, addOnCode: 'email_5' }, s.token))).toEqual(['STRIPE_PRICE_NOT_CONFIGURED']);

    const purchase = (await ok('PurchaseAddOn', { storeId: s.store.id, addOnCode: 'domain', domainName: 'Shop.Example.com' }, s.token)).purchaseAddOn;
    // one Stripe customer per merchant, reused by every checkout
    const second = (await ok('CreateCheckoutSession', { storeId: s.store.id, tierCode: 'essential', billingCycle: 'MONTHLY' }, s.token)).createCheckoutSession;
    const customerOf = (id: string) => stripeLocal.state.checkoutSessions.get(id)?.customer;
    expect(customerOf(second.sessionId)).toBe(customerOf(purchase.sessionId));
    const bought = await stripeLocal.completeCheckout(purchase.sessionId);
    await stripeLocal.settled();
    expect(bought.deliveries.map((d) => [d.type, d.status])).toEqual([
      ['checkout.session.completed', 200],
      ['customer.subscription.created', 200],
      ['invoice.paid', 200],
    ]);
    const { store } = await ok('StoreBilling', { storeId: s.store.id }, s.token);
    expect(store.addOns).toEqual([{ id: expect.any(String), status: 'active', quantity: 1, domainName: 'shop.example.com', addOn: { code: 'domain', name: 'Custom Domain' } }]);
    const cancelled = (await ok('CancelAddOn', { id: store.addOns[0].id }, s.token)).cancelAddOn;
    expect(cancelled.status).toBe('cancelled');
    // cancelled in Stripe too, so it stops billing
    const addOnSubscription = [...stripeLocal.state.subscriptions.values()].find((sub) => sub.metadata?.kind === 'addon' && sub.metadata?.merchantId === s.merchant.id)!;
    expect(addOnSubscription.status).toBe('canceled');
    // another merchant cannot even see it
    const other = await shop();
    expect(errorCodes(await send('CancelAddOn', { id: store.addOns[0].id }, other.token))).toEqual(['NOT_FOUND']);
  });

  it('refuses what the reference refuses: unknown tiers, missing prices, no subscription, other tenants', async () => {
    const s = await shop();
    expect(errorCodes(await send('CreateCheckoutSession', { storeId: s.store.id, tierCode: 'platinum', billingCycle: 'MONTHLY' }, s.token))).toEqual(['TIER_NOT_FOUND']);
    expect(errorCodes(await send('CreateCheckoutSession', { storeId: s.store.id, tierCode: 'professional', billingCycle: 'MONTHLY' }, s.token))).toEqual([
      'STRIPE_PRICE_NOT_CONFIGURED',
    ]);
    expect(errorCodes(await send('ChangeSubscriptionTier', { storeId: s.store.id, tierCode: 'business' }, s.token))).toEqual(['NO_ACTIVE_SUBSCRIPTION']);
    expect(errorCodes(await send('CancelSubscription', { storeId: s.store.id }, s.token))).toEqual(['NO_ACTIVE_SUBSCRIPTION']);
    const other = await shop();
    expect(errorCodes(await send('CreateCheckoutSession', { storeId: s.store.id, tierCode: 'essential', billingCycle: 'MONTHLY' }, other.token))).toEqual(['NOT_FOUND']);
  });
});

describe('upcomingInvoice of many stores', () => {
  it('reads the subscriptions and Stripe customers in one statement each, not two statements per store', async () => {
    const query = `query($m: ID!) { merchant(id: $m) { stores { id upcomingInvoice { amountDueCents } } } }`;
    /** billing's reads of subscriptions and customers while answering the merchant's stores' upcoming invoices */
    const readsFor = async (storeCount: number) => {
      const s = await shop();
      for (let i = 1; i < storeCount; i++) {
        await ok('CreateStore', { input: { merchantId: s.merchant.id, platformId: s.platform.id, code: `s${i}`, name: `S${i}` } });
      }
      await postGraphQL(graph.gateway.url, { query, variables: { m: s.merchant.id } }, { token: admin }); // warm the store look-ups
      const { statements, stop } = recordSqlStatements();
      let stores;
      try {
        stores = (await postGraphQL(graph.gateway.url, { query, variables: { m: s.merchant.id } }, { token: admin })).data?.merchant.stores;
      } finally {
        stop();
      }
      expect(stores).toHaveLength(storeCount);
      // the loaders' prepared statements quote their names ("billing"."merchant_subscriptions")
      return statements.filter((sql) => /"?billing"?\."?(stripe_customers|merchant_subscriptions)\b/.test(sql)).length;
    };
    const one = await readsFor(1);
    const four = await readsFor(4);
    expect(one).toBe(2);
    expect(four).toBe(one);
  });
});

