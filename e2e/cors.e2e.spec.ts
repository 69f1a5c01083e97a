import { randomUUID } from 'node:crypto';
import type { SubgraphName } from '@tiergraph/runtime';
import { corsHeadersOf, corsPreflight, postGraphQL, tokenFor } from '@tiergraph/testkit';
import type { Browser } from 'playwright-core';
import { launchChromium, servePage, type PageServer } from './browser';
import { contractOperation, startTestGateway, startTestGraph, type TestGraph } from './graph';

/**
 * Browser frontends on other origins: CORS on the gateway, over HTTP and in headless Chromium. The gateway allows
 * https://app.example.com and the page served on `allowedPage`; `unlistedPage` is served the same way, elsewhere.
 */
const APP = 'https://app.example.com';
const UNKNOWN = 'https://evil.example.com';
const CSRF_MESSAGE = /Cross-Site Request Forgery/;

/**
 * The frontend: runs the contract's MerchantFeatures with a bearer token against the gateway named in the page's
 * hash, and renders the answer, or what went wrong, into the page. `#status[data-done]` marks the end.
 */
const FEATURES_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Features</title></head>
<body>
  <h1 id="merchant">loading</h1>
  <ul id="features"></ul>
  <p id="status">loading</p>
  <script>
    const { url, token, query, variables } = JSON.parse(decodeURIComponent(location.hash.slice(1)));
    const status = document.getElementById('status');
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ query, variables, operationName: 'MerchantFeatures' }),
    })
      .then((response) => response.json())
      .then(({ data, errors }) => {
        if (errors) throw new Error(errors.map((e) => e.extensions.code).join(', '));
        const { merchant } = data;
        document.getElementById('merchant').textContent = merchant.name + ': ' + merchant.subscription.tier.name;
        for (const f of merchant.subscription.features) {
          const item = document.createElement('li');
          item.textContent = f.code + ': ' + (f.limit === null ? (f.enabled ? 'included' : 'not included') : f.current + ' of ' + f.limit);
          document.getElementById('features').append(item);
        }
        status.textContent = 'loaded';
      })
      .catch((error) => { status.textContent = 'failed: ' + error.name + ': ' + error.message; })
      .finally(() => { status.dataset.done = ''; });
  </script>
</body></html>`;

let graph: TestGraph;
let allowedPage: PageServer;
let unlistedPage: PageServer;
let admin: string;

beforeAll(async () => {
  [allowedPage, unlistedPage] = await Promise.all([servePage(FEATURES_PAGE), servePage(FEATURES_PAGE)]);
  graph = await startTestGraph({}, { CORS_ORIGINS: `${APP},${allowedPage.origin}` });
  admin = await tokenFor({ role: 'admin' });
});

afterAll(async () => {
  await graph?.stop();
  await Promise.all([allowedPage?.close(), unlistedPage?.close()]);
});

async function ok(operationName: string, variables: Record<string, unknown>, token = admin): Promise<any> {
  const response = await postGraphQL(graph.gateway.url, { query: contractOperation(operationName), variables, operationName }, { token });
  if (response.errors?.length) throw new Error(`${operationName}: ${JSON.stringify(response.errors)}`);
  return response.data;
}

const post = (headers: Record<string, string>, body = JSON.stringify({ query: '{ __typename }' })) =>
  fetch(graph.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, ...headers }, body });

function subgraphUrls(): Record<SubgraphName, string> {
  return Object.fromEntries(Object.entries(graph.subgraphs).map(([name, s]) => [name, s.url])) as Record<SubgraphName, string>;
}

describe('CORS on the gateway, over HTTP', () => {
  it('answers the preflight of an allowed origin with 204, the origin echoed, authorization and content-type, and a max-age', async () => {
    const response = await corsPreflight(graph.gateway.url, APP);
    expect(response.status).toBe(204);
    expect(corsHeadersOf(response)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'authorization,content-type,x-request-id,apollo-require-preflight,x-apollo-operation-name',
      'access-control-expose-headers': 'x-request-id',
      'access-control-max-age': '7200',
    });
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('lets an allowed origin read the answer to its POST, and the request id', async () => {
    const response = await post({ origin: APP });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    expect(corsHeadersOf(response)).toEqual({ 'access-control-allow-origin': APP, 'access-control-expose-headers': 'x-request-id' });
  });

  it('gives an unknown origin no CORS headers, on the preflight (still 204) and on the POST', async () => {
    const preflight = await corsPreflight(graph.gateway.url, UNKNOWN);
    expect([preflight.status, corsHeadersOf(preflight)]).toEqual([204, {}]);
    const response = await post({ origin: UNKNOWN });
    expect(corsHeadersOf(response)).toEqual({});
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('answers requests without an Origin (servers, curl) as before, without CORS headers', async () => {
    const response = await post({});
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    expect(corsHeadersOf(response)).toEqual({});
  });

  it.each([
    ['a text/plain POST', { method: 'POST', headers: { 'content-type': 'text/plain' } }],
    ['a form POST', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ['a GET', { method: 'GET', headers: {} }],
  ])('keeps CSRF prevention for what a browser sends without a preflight, from an allowed origin too: %s', async (_what, request) => {
    const code = `csrf-${randomUUID().slice(0, 8)}`;
    const query = `mutation { createPlatform(input: { code: "${code}", name: "x" }) { id } }`;
    const url = request.method === 'GET' ? `${graph.gateway.url}?query=${encodeURIComponent(query)}` : graph.gateway.url;
    const response = await fetch(url, {
      method: request.method,
      headers: { origin: APP, authorization: `Bearer ${admin}`, ...request.headers },
      body: request.method === 'GET' ? undefined : JSON.stringify({ query }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(CSRF_MESSAGE);
    const [{ n }] = await graph.subgraphs.tenancy.dataSource.query(`SELECT count(*)::int AS n FROM tenancy.platforms WHERE code = $1`, [code]);
    expect(n).toBe(0);
  });

  it('runs a GET query from an allowed origin that sends apollo-require-preflight (which a browser preflights)', async () => {
    const response = await fetch(`${graph.gateway.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { origin: APP, authorization: `Bearer ${admin}`, 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('allows local frontends on any port by default in development, none by default in production, credentials when asked', async () => {
    const started = await Promise.all([
      startTestGateway(subgraphUrls()),
      startTestGateway(subgraphUrls(), { NODE_ENV: 'production' }),
      startTestGateway(subgraphUrls(), { CORS_ORIGINS: APP, CORS_CREDENTIALS: 'true' }),
    ]);
    try {
      const [development, production, credentials] = started;
      const allowOrigin = async (url: string, origin: string) => (await corsPreflight(url, origin)).headers.get('access-control-allow-origin');
      expect(await allowOrigin(development.url, 'http://localhost:3000')).toBe('http://localhost:3000');
      expect(await allowOrigin(development.url, 'http://127.0.0.1:5173')).toBe('http://127.0.0.1:5173');
      expect(await allowOrigin(development.url, APP)).toBeNull();
      expect(await allowOrigin(production.url, 'http://localhost:3000')).toBeNull();
      expect(corsHeadersOf(await corsPreflight(credentials.url, APP))).toMatchObject({
        'access-control-allow-origin': APP,
        'access-control-allow-credentials': 'true',
      });
      expect(corsHeadersOf(await corsPreflight(graph.gateway.url, APP))).not.toHaveProperty('access-control-allow-credentials');
    } finally {
      await Promise.all(started.map((gateway) => gateway.stop()));
    }
  });
});

describe('CORS on the gateway, in headless Chromium', () => {
  let browser: Browser;
  let merchant: { id: string; platformId: string; token: string };

  beforeAll(async () => {
    browser = await launchChromium();
    const n = randomUUID().slice(0, 8);
    const platform = (await ok('CreatePlatform', { input: { code: `web-${n}`, name: 'Web' } })).createPlatform;
    const created = (await ok('CreateMerchant', { input: { name: 'Acme', email: `acme-${n}@example.com` } })).createMerchant;
    const store = (await ok('CreateStore', { input: { merchantId: created.id, platformId: platform.id, code: 'main', name: 'Main' } })).createStore;
    await ok('UpdateMerchantSubscription', { merchantId: created.id, platformId: platform.id, input: { tierCode: 'professional' } });
    for (const sku of ['MUG', 'CAP']) await ok('CreateProduct', { input: { storeId: store.id, sku, name: sku, priceCents: 1200 } });
    merchant = { id: created.id, platformId: platform.id, token: await tokenFor({ role: 'merchant', merchantId: created.id }) };
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens the features page served from `page` and returns what it rendered once its call is done. */
  async function render(page: PageServer): Promise<{ headline: string; features: string[]; status: string }> {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      const config = {
        url: graph.gateway.url,
        token: merchant.token,
        query: contractOperation('MerchantFeatures'),
        variables: { merchantId: merchant.id, platformId: merchant.platformId },
      };
      await tab.goto(`${page.origin}/#${encodeURIComponent(JSON.stringify(config))}`);
      await tab.waitForSelector('#status[data-done]');
      return {
        headline: (await tab.locator('#merchant').textContent()) ?? '',
        features: await tab.locator('#features li').allTextContents(),
        status: (await tab.locator('#status').textContent()) ?? '',
      };
    } finally {
      await context.close();
    }
  }

  const merchantFeaturesRequests = async () =>
    (await graph.gateway.metrics.requests.get()).values.find((v) => v.labels.operation === 'MerchantFeatures')?.value ?? 0;

  it('shows the merchant’s real features on a page of an allowed origin', async () => {
    const before = await merchantFeaturesRequests();
    const shown = await render(allowedPage);
    expect(shown.status).toBe('loaded');
    expect(await merchantFeaturesRequests()).toBe(before + 1);
    expect(shown.headline).toBe('Acme: Professional');
    expect(shown.features).toEqual(
      expect.arrayContaining(['max_products: 2 of 500', 'max_team_members: 0 of 3', 'analytics_dashboard: included', 'api_access: not included']),
    );
    // the same features the gateway gives a server-side client
    const { merchant: fromServer } = await ok('MerchantFeatures', { merchantId: merchant.id, platformId: merchant.platformId }, merchant.token);
    expect(shown.features.map((line) => line.split(':')[0]).sort()).toEqual(fromServer.subscription.features.map((f: { code: string }) => f.code).sort());
  });

  it('lets the browser block a page of an unlisted origin: its fetch rejects with a TypeError, the call never runs', async () => {
    const before = await merchantFeaturesRequests();
    const shown = await render(unlistedPage);
    expect(shown.status).toMatch(/^failed: TypeError: /);
    expect([shown.headline, shown.features]).toEqual(['loading', []]);
    // the preflight got no CORS headers, so Chromium never sent the POST
    expect(await merchantFeaturesRequests()).toBe(before);
  });
});
