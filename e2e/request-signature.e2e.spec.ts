import { SIGNATURE_HEADER, SIGNATURE_WINDOW_SECONDS, signatureOf } from '@tiergraph/runtime';
import { createWorld, postGraphQL, TEST_SUBGRAPH_HMAC_SECRET, type World } from '@tiergraph/testkit';
import { contractCaller, startTestGraph, type TestGraph } from './graph';

/**
 * Issue 11: a direct caller cannot forge `@requires` data. The test graph runs signed (SUBGRAPH_HMAC_SECRET on the
 * gateway and every subgraph, as `pnpm start` and the compose file run them): billing answers `_entities` only for
 * requests the gateway signed over their exact body, so usage handed to billing is what the contributors counted.
 */
let graph: TestGraph;
let w: World;
const { ok } = contractCaller(() => graph, () => w.tokens.admin);

const FEATURES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { features { code limit current percentUsed } } } }';
/** Billing's representation as the gateway builds it, with the caller's own merchant and a forged product count. */
const forged = () => ({
  query: FEATURES,
  variables: {
    r: [
      {
        __typename: 'MerchantSubscription',
        merchantId: w.m1,
        platformId: w.platformId,
        // a count billing's checks accept (non-negative, a code catalog owns): only the signature tells it is not catalog's
        catalogUsage: [{ code: 'max_products', current: 150 }],
        ordersUsage: [],
        tenancyUsage: [],
        mediaUsage: [],
      },
    ],
  },
});

/** A body exactly as given (bytes the test chose), with a signature header of the test's choosing. */
async function postRaw(url: string, body: string, token: string, signature: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, [SIGNATURE_HEADER]: signature },
    body,
  });
  const answer = (await response.json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string; reason?: string } }> };
  return { status: response.status, data: answer.data ?? null, codes: (answer.errors ?? []).map((e) => `${e.extensions?.code}:${e.extensions?.reason}`) };
}

const productsCounted = async (): Promise<number> => {
  const data = await ok('MerchantFeatures', { merchantId: w.m1, platformId: w.platformId }, w.tokens.merchant1);
  return data.merchant.subscription.features.find((f: { code: string }) => f.code === 'max_products').current;
};

beforeAll(async () => {
  graph = await startTestGraph();
  w = await createWorld({ tenancy: graph.subgraphs.tenancy.url, billing: graph.subgraphs.billing.url });
  // through the gateway: catalog's own internal calls (tenancy's _entities for the store, billing's entitlements) are signed too
  await ok('CreateProduct', { input: { storeId: w.s1, sku: 'SIGNED-1', name: 'Signed', priceCents: 100 } }, w.tokens.store1);
});

afterAll(async () => {
  await graph?.stop();
});

it('through the gateway (signed): the @requires usage is what catalog counted', async () => {
  expect(await productsCounted()).toBe(1);
});

describe.each(['admin', 'merchant1'] as const)('straight to billing with a valid %s token', (who) => {
  it('forged usage without a signature: 403 FORBIDDEN, no data, and nothing changes', async () => {
    const response = await postGraphQL(graph.subgraphs.billing.url, forged(), { token: w.tokens[who], signed: false });
    expect({ status: response.status, data: response.data ?? null, errors: response.errors?.map((e) => [e.extensions?.code, e.extensions?.reason]) }).toEqual({
      status: 403,
      data: null,
      errors: [['FORBIDDEN', 'signature-missing']],
    });
    expect(await productsCounted()).toBe(1);
  });

  it('forged usage with a signature made with another secret: 403 FORBIDDEN', async () => {
    const body = JSON.stringify(forged());
    const response = await postRaw(graph.subgraphs.billing.url, body, w.tokens[who], signatureOf('a-guessed-secret-that-is-at-least-32-chars', body, `Bearer ${w.tokens[who]}`));
    expect(response).toEqual({ status: 403, data: null, codes: ['FORBIDDEN:signature-invalid'] });
  });

  it("a signed body changed after signing (the usage raised): 403 FORBIDDEN", async () => {
    const honest = forged();
    honest.variables.r[0].catalogUsage = [{ code: 'max_products', current: 1 }];
    const body = JSON.stringify(honest);
    const signature = signatureOf(TEST_SUBGRAPH_HMAC_SECRET, body, `Bearer ${w.tokens[who]}`);
    // the signed body is answered; the same signature on the raised count is not
    expect((await postRaw(graph.subgraphs.billing.url, body, w.tokens[who], signature)).codes).toEqual([]);
    const tampered = body.replace('"current":1', '"current":150');
    expect(tampered).not.toBe(body);
    const response = await postRaw(graph.subgraphs.billing.url, tampered, w.tokens[who], signature);
    expect(response).toEqual({ status: 403, data: null, codes: ['FORBIDDEN:signature-invalid'] });
    expect(await productsCounted()).toBe(1);
  });
});

describe('a signed request captured and sent again', () => {
  const honest = () => {
    const body = forged();
    body.variables.r[0].catalogUsage = [{ code: 'max_products', current: 1 }];
    return JSON.stringify(body);
  };

  it("with another caller's token: 403 FORBIDDEN (the signature binds the Authorization it was sent with)", async () => {
    const body = honest();
    const captured = signatureOf(TEST_SUBGRAPH_HMAC_SECRET, body, `Bearer ${w.tokens.merchant1}`);
    expect((await postRaw(graph.subgraphs.billing.url, body, w.tokens.merchant1, captured)).codes).toEqual([]);
    expect(await postRaw(graph.subgraphs.billing.url, body, w.tokens.admin, captured)).toEqual({ status: 403, data: null, codes: ['FORBIDDEN:signature-invalid'] });
  });

  it(`later than ${SIGNATURE_WINDOW_SECONDS} s after it was signed: 403 FORBIDDEN`, async () => {
    const body = honest();
    const signedAt = Math.floor(Date.now() / 1000) - SIGNATURE_WINDOW_SECONDS - 2;
    const late = signatureOf(TEST_SUBGRAPH_HMAC_SECRET, body, `Bearer ${w.tokens.merchant1}`, signedAt);
    expect(await postRaw(graph.subgraphs.billing.url, body, w.tokens.merchant1, late)).toEqual({ status: 403, data: null, codes: ['FORBIDDEN:signature-expired'] });
  });
});

it('the same representation signed as the gateway signs is answered (the signature is the only difference)', async () => {
  const response = await postGraphQL(graph.subgraphs.billing.url, forged(), { token: w.tokens.merchant1 });
  expect(response.errors).toBeUndefined();
  expect(response.data?._entities[0].features.find((f: { code: string }) => f.code === 'max_products').current).toBe(150);
});
