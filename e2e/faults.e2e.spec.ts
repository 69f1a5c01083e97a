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
