import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { SUBGRAPH_NAMES, type SubgraphName } from '@tiergraph/runtime';
import { freePort, postGraphQL, tokenFor } from '@tiergraph/testkit';
import type { RunningGateway } from '@tiergraph/gateway';
import { contractOperation, startTestGateway, startTestGraph, type TestGraph } from './graph';

/**
 * A part that fails costs its own fields only (issue 11): a second gateway in front of the same subgraphs, with
 * catalog replaced by a server that accepts connections and never answers (as a SIGSTOPped process does: the
 * kernel still completes the handshake), or by a closed port.
 */
let graph: TestGraph;
let admin: string;
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
  const run = async (name: string, variables: Record<string, unknown>) => {
    const response = await postGraphQL(graph.gateway.url, { query: contractOperation(name), variables }, { token: admin });
    if (response.errors) throw new Error(JSON.stringify(response.errors));
    return response.data!;
  };
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
