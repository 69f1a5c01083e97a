import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { SUBGRAPH_NAMES, type SubgraphName } from '@tiergraph/runtime';
import { freePort, postGraphQL, tokenFor } from '@tiergraph/testkit';
import type { RunningGateway } from '@tiergraph/gateway';
import { contractCaller, contractOperation, startTestGateway, startTestGraph, type TestGraph } from './graph';

/**
 * A part that fails costs its own fields only (issue 11): a second gateway in front of the same subgraphs, with
 * catalog replaced by a server that accepts connections and never answers (as a SIGSTOPped process does: the
 * kernel still completes the handshake), or by a closed port.
 */
let graph: TestGraph;
let admin: string;
/** The contract's operations through the healthy graph with the admin token, throwing on any error. */
const { ok: run } = contractCaller(() => graph, () => admin);
let hung: net.Server;
const heldSockets = new Set<net.Socket>();
let hungUrl: string;
let closedUrl: string;

beforeAll(async () => {
  graph = await startTestGraph();
  admin = await tokenFor({ role: 'admin' });
  hung = net.createServer((socket) => {
    heldSockets.add(socket);
    socket.on('close', () => heldSockets.delete(socket));
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  hungUrl = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}/graphql`;
  closedUrl = `http://127.0.0.1:${await freePort()}/graphql`;
});

afterAll(async () => {
  for (const socket of heldSockets) socket.destroy();
  hung?.close();
  await graph?.stop();
});

async function gatewayWithCatalogAt(catalogUrl: string, timeoutMs: number): Promise<RunningGateway> {
  const urls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, n === 'catalog' ? catalogUrl : graph.subgraphs[n].url])) as Record<SubgraphName, string>;
  return startTestGateway(urls, { SUBGRAPH_TIMEOUT_MS: String(timeoutMs) });
}

async function storeWithProducts(): Promise<{ storeId: string; platformCode: string }> {
  const n = randomUUID().slice(0, 8);
  const platform = (await run('CreatePlatform', { input: { code: `f-${n}`, name: 'F' } })).createPlatform;
  const merchant = (await run('CreateMerchant', { input: { name: `Faulty ${n}`, email: `f-${n}@example.com` } })).createMerchant;
  const store = (await run('CreateStore', { input: { merchantId: merchant.id, platformId: platform.id, code: 'main', name: 'Main' } })).createStore;
  await run('UpdateMerchantSubscription', { merchantId: merchant.id, platformId: platform.id, input: { tierCode: 'professional' } });
  await run('CreateProduct', { input: { storeId: store.id, sku: 'A', name: 'A', priceCents: 100 } });
  return { storeId: store.id, platformCode: platform.code };
}

/** Two root fields: the store's products come from catalog, the store's name and the platforms from tenancy. */
const QUERY = `query($id: ID!) { platforms { code } store(id: $id) { id name products(first: 5) { totalCount } } }`;

describe('a subgraph that hangs or is gone costs its own fields only', () => {
  it.each([
    ['hangs (accepts, never answers)', () => hungUrl, 'timeout', /did not answer within 500 ms/],
    ['is gone (connection refused)', () => closedUrl, 'unreachable', /is unreachable \(ECONNREFUSED\)/],
  ])('catalog %s: the answer carries tenancy’s data and one SUBGRAPH_UNAVAILABLE error naming catalog and the path', async (_case, url, reason, message) => {
    const { storeId, platformCode } = await storeWithProducts();
    // the healthy graph answers everything
    const healthy = await postGraphQL(graph.gateway.url, { query: QUERY, variables: { id: storeId } }, { token: admin });
    expect(healthy.errors).toBeUndefined();
    expect(healthy.data!.store.products.totalCount).toBe(1);

    const degraded = await gatewayWithCatalogAt(url(), 500);
    try {
      const response = await postGraphQL(degraded.url, { query: QUERY, variables: { id: storeId } }, { token: admin });
      expect(response.data!.platforms.map((p: { code: string }) => p.code)).toContain(platformCode);
      expect(response.errors).toHaveLength(1);
      const [error] = response.errors!;
      expect(error.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'catalog', reason });
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/127\.0\.0\.1|http:/);
      expect(error.path).toEqual(['store']);
    } finally {
      await degraded.stop();
    }
  });
});

/** The contract's operation, with the fields issue 11 added to say which usage is unknown. */
function withUsageKnown(name: 'MerchantFeatures' | 'StoreBilling'): string {
  const operation = contractOperation(name);
  const from = name === 'MerchantFeatures' ? /\bisOverride\s+unit\b/ : /\bisApproachingLimit\b/;
  expect(operation).toMatch(from);
  return operation.replace(from, (fields) => `${fields} usageKnown usageUnavailableReason`);
}

interface Feature {
  code: string;
  featureType: string;
  limit: number | null;
  current: number | null;
  usageKnown: boolean;
  [field: string]: unknown;
}

describe('a usage contributor that is down costs its own features only', () => {
  it.each([
    ['gone (connection refused)', () => closedUrl, 'unreachable'],
    ['hung (accepts, never answers)', () => hungUrl, 'timeout'],
  ])('orders %s: MerchantFeatures keeps the subscription and the other features; StoreBilling keeps the store and the other meters', async (_case, ordersUrl, reason) => {
    const n = randomUUID().slice(0, 8);
    const platform = (await run('CreatePlatform', { input: { code: `o-${n}`, name: 'O' } })).createPlatform;
    const merchant = (await run('CreateMerchant', { input: { name: `Orderless ${n}`, email: `o-${n}@example.com` } })).createMerchant;
    const store = (await run('CreateStore', { input: { merchantId: merchant.id, platformId: platform.id, code: 'main', name: 'Main' } })).createStore;
    await run('UpdateMerchantSubscription', { merchantId: merchant.id, platformId: platform.id, input: { tierCode: 'essential' } });
    await run('UpdateMerchantSubscription', { merchantId: merchant.id, platformId: platform.id, input: { tierCode: 'professional', reason: 'grew' } });
    await run('CreateProduct', { input: { storeId: store.id, sku: 'A', name: 'A', priceCents: 100 } });
    await run('CreateProduct', { input: { storeId: store.id, sku: 'B', name: 'B', priceCents: 100 } });

    const catalog = await postGraphQL(graph.gateway.url, { query: '{ featureCatalog { features { code owner measurement } } }' }, { token: admin });
    const owners = new Map<string, { owner: string; measurement: string }>(
      catalog.data!.featureCatalog.flatMap((c: { features: Array<{ code: string; owner: string; measurement: string }> }) => c.features.map((f) => [f.code, f])),
    );
    const countedByOrders = (code: string) => owners.get(code)?.owner === 'orders' && owners.get(code)?.measurement === 'COMPUTED';

    const featuresVars = { merchantId: merchant.id, platformId: platform.id };
    const healthyFeatures = await postGraphQL(graph.gateway.url, { query: withUsageKnown('MerchantFeatures'), variables: featuresVars }, { token: admin });
    const healthyBilling = await postGraphQL(graph.gateway.url, { query: withUsageKnown('StoreBilling'), variables: { storeId: store.id } }, { token: admin });
    expect(healthyFeatures.errors).toBeUndefined();
    expect(healthyBilling.errors).toBeUndefined();
    const healthy = healthyFeatures.data!.merchant.subscription;
    expect(healthy.tier.code).toBe('professional');
    expect(healthy.history.length).toBeGreaterThanOrEqual(2);
    expect(healthy.features.every((f: Feature) => f.usageKnown && f.usageUnavailableReason === null)).toBe(true);
    expect(healthy.features.find((f: Feature) => f.code === 'max_products').current).toBe(2);
    const ordersFeatures = healthy.features.filter((f: Feature) => f.featureType === 'QUANTITATIVE' && countedByOrders(f.code));
    expect(ordersFeatures.map((f: Feature) => f.code)).toContain('max_orders_per_month');
    expect(ordersFeatures.every((f: Feature) => f.current === 0)).toBe(true);

    const urls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, name === 'orders' ? ordersUrl() : graph.subgraphs[name].url])) as Record<SubgraphName, string>;
    const degraded = await startTestGateway(urls, { SUBGRAPH_TIMEOUT_MS: '500' });
    try {
      const features = await postGraphQL(degraded.url, { query: withUsageKnown('MerchantFeatures'), variables: featuresVars }, { token: admin });
      const subscription = features.data!.merchant.subscription;
      expect(subscription).not.toBeNull();
      const { features: degradedFeatures, ...rest } = subscription;
      const { features: healthyList, ...healthyRest } = healthy;
      expect(rest).toEqual(healthyRest); // id, status, cycle, tier, period, history
      expect(degradedFeatures.map((f: Feature) => f.code)).toEqual(healthyList.map((f: Feature) => f.code));
      for (const [i, feature] of (degradedFeatures as Feature[]).entries()) {
        const before = healthyList[i] as Feature;
        if (feature.featureType === 'QUANTITATIVE' && countedByOrders(feature.code)) {
          expect(feature).toEqual({
            ...before,
            current: null,
            remaining: null,
            percentUsed: null,
            usageKnown: false,
            usageUnavailableReason: expect.stringMatching(/^the orders service did not contribute its count/),
          });
        } else {
          expect(feature).toEqual(before); // catalog's count, tenancy's, media's, billing's metered ones, binary features
        }
      }
      // one error, naming orders and pointing at the subscription whose usage it could not count
      expect(features.errors).toHaveLength(1);
      expect(features.errors![0]).toMatchObject({ path: ['merchant', 'subscription'], extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'orders', reason } });

      const billing = await postGraphQL(degraded.url, { query: withUsageKnown('StoreBilling'), variables: { storeId: store.id } }, { token: admin });
      const degradedStore = billing.data!.store;
      expect(degradedStore).not.toBeNull();
      const { usage, ...storeRest } = degradedStore;
      const { usage: healthyUsage, ...healthyStoreRest } = healthyBilling.data!.store;
      expect(storeRest).toEqual(healthyStoreRest); // id, name, subscription, invoices, add-ons
      expect(billing.data!.addOnProducts).toEqual(healthyBilling.data!.addOnProducts);
      expect(usage.map((m: { code: string }) => m.code)).toEqual(healthyUsage.map((m: { code: string }) => m.code));
      for (const [i, meter] of (usage as Array<{ code: string }>).entries()) {
        const before = healthyUsage[i];
        if (countedByOrders(meter.code)) {
          expect(meter).toEqual({
            ...before,
            current: 0,
            percentage: 0,
            isAtLimit: false,
            isApproachingLimit: false,
            usageKnown: false,
            usageUnavailableReason: expect.stringMatching(/^the orders service did not contribute its count/),
          });
        } else {
          expect(meter).toEqual(before);
        }
      }
      expect(usage.find((m: { code: string }) => m.code === 'max_products')).toMatchObject({ current: 2, usageKnown: true });
      expect(billing.errors).toHaveLength(1);
      expect(billing.errors![0]).toMatchObject({ path: ['store'], extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'orders', reason } });
    } finally {
      await degraded.stop();
    }
  });
});

describe('Stripe webhooks through the gateway', () => {
  it('are forwarded to billing, whose answer comes back as it is', async () => {
    // this billing has no STRIPE_WEBHOOK_SECRET: its sidecar answers 503 with its own message (the paid flow, with a
    // secret, runs through the gateway in stripe.e2e.spec.ts)
    const direct = await fetch(graph.subgraphs.billing.url.replace(/\/graphql$/, '/webhooks/stripe'), { method: 'POST', body: '{}', headers: { 'stripe-signature': 't=1,v1=x' } });
    const forwarded = await fetch(`${graph.origin}/webhooks/stripe`, { method: 'POST', body: '{}', headers: { 'stripe-signature': 't=1,v1=x' } });
    expect(forwarded.status).toBe(direct.status);
    expect(await forwarded.json()).toEqual(await direct.json());
  });

  it('answer 503 when billing cannot be reached, so Stripe retries', async () => {
    const urls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, n === 'billing' ? closedUrl : graph.subgraphs[n].url])) as Record<SubgraphName, string>;
    const gateway = await startTestGateway(urls);
    try {
      const answer = await fetch(`http://127.0.0.1:${gateway.port}/webhooks/stripe`, { method: 'POST', body: '{}', headers: { 'stripe-signature': 't=1,v1=x' } });
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as { error: string }).error).toMatch(/^billing is unavailable; nothing was processed/);
    } finally {
      await gateway.stop();
    }
  });
});
