import http from 'node:http';
import { EnvError, parseEnv, requestSigner, SIGNATURE_HEADER, signatureVerifier } from '@tiergraph/runtime';
import { freePort } from '@tiergraph/testkit';
import { AuthenticatedDataSource } from './authenticated-data-source';
import { gatewayEnvSchema } from './env';
import { subgraphAgent } from './http-fetcher';
import { createGatewayMetrics } from './metrics';

const SECRET = 'the-gateway-and-subgraphs-share-this-secret';

/** A subgraph stand-in that records what arrived: the raw body bytes, the Authorization and the signature header. */
type Seen = { body: Buffer; authorization: string | undefined; signature: string | string[] | undefined };
async function recorder(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ body: Buffer.concat(chunks), authorization: req.headers.authorization, signature: req.headers[SIGNATURE_HEADER] });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { ok: true } }));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const send = (source: AuthenticatedDataSource, url: string) =>
  source.process({
    kind: 'health check', // GraphQLDataSourceRequestKind.HEALTH_CHECK (not exported by the package's index)
    context: {},
    request: {
      query: 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }',
      variables: { r: [{ __typename: 'MerchantSubscription', merchantId: 'm-é', catalogUsage: [{ code: 'max_products', current: 3 }] }] },
      http: { method: 'POST', url, headers: new Headers() as never },
    },
  } as never);

describe('the gateway signs every subgraph request over the exact body and Authorization it sends', () => {
  const agent = subgraphAgent();
  afterAll(() => agent.destroy());

  it.each(['http', 'fetch'] as const)('%s client: x-tiergraph-signature verifies against the bytes and the token that arrived', async (kind) => {
    const subgraph = await recorder();
    try {
      const client = kind === 'http' ? ({ kind, agent } as const) : ({ kind } as const);
      const source = new AuthenticatedDataSource('billing', subgraph.url, createGatewayMetrics(), async () => 'service-token', 5000, client, requestSigner(SECRET));
      await send(source, subgraph.url);
      expect(subgraph.seen).toHaveLength(1);
      const [{ body, authorization, signature }] = subgraph.seen;
      expect(signature).toMatch(/^t=\d+,sha256=[0-9a-f]{64}$/);
      expect(authorization).toBe('Bearer service-token');
      expect(signatureVerifier(SECRET)(body, authorization, signature)).toBe('valid');
      expect(signatureVerifier(SECRET)(body, 'Bearer another-token', signature)).toBe('invalid');
      expect(signatureVerifier('another-secret-entirely-of-32-characters')(body, authorization, signature)).toBe('invalid');
    } finally {
      await subgraph.close();
    }
  });

  it('without a secret, sends no signature', async () => {
    const subgraph = await recorder();
    try {
      await send(new AuthenticatedDataSource('billing', subgraph.url, createGatewayMetrics(), async () => 'service-token', 5000, { kind: 'http', agent }), subgraph.url);
      expect(subgraph.seen.map((s) => s.signature)).toEqual([undefined]);
    } finally {
      await subgraph.close();
    }
  });
});

describe('SUBGRAPH_HMAC_SECRET in the gateway environment', () => {
  const production = { NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-production-secret-of-some-length' };
  it('is required with NODE_ENV=production', () => {
    expect(() => parseEnv(gatewayEnvSchema, production)).toThrow(EnvError);
    expect(() => parseEnv(gatewayEnvSchema, production)).toThrow(/SUBGRAPH_HMAC_SECRET: required with NODE_ENV=production/);
    expect(parseEnv(gatewayEnvSchema, { ...production, SUBGRAPH_HMAC_SECRET: SECRET }).SUBGRAPH_HMAC_SECRET).toBe(SECRET);
  });
  it('is optional in development', () => {
    expect(parseEnv(gatewayEnvSchema, {}).SUBGRAPH_HMAC_SECRET).toBeUndefined();
  });
});
