import http from 'node:http';
import { SIGNATURE_HEADER, signatureOf, signToken, type FeatureDeclaration, type TokenClaims } from '@tiergraph/runtime';

/** What tests call the graph with: tokens, GraphQL over HTTP, CORS requests (no servers here, see index.ts). */

/** The secret every test process signs and verifies with. */
export const TEST_JWT_SECRET = 'tiergraph-test-secret-not-for-production';

/**
 * The SUBGRAPH_HMAC_SECRET of test graphs (startTestSubgraphs, e2e's startTestGraph): their gateway signs subgraph
 * requests with it and their subgraphs answer `_entities` only when signed.
 */
export const TEST_SUBGRAPH_HMAC_SECRET = 'tiergraph-test-subgraph-hmac-secret-not-for-production';

export function tokenFor(claims: TokenClaims, expiresIn: string | number = '10m'): Promise<string> {
  return signToken(TEST_JWT_SECRET, claims, expiresIn);
}

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }>;
}

/**
 * POSTs one GraphQL operation as a client would, on a fresh connection: test servers come and go on reused
 * ports, and a pooled keep-alive socket to a stopped server would fail the next request with ECONNRESET.
 *
 * Signed with TEST_SUBGRAPH_HMAC_SECRET as the gateway signs (a gateway ignores it), so a test that calls a subgraph
 * stands where the gateway stands and tests the subgraph's own authorisation of the token; `signed: false` is a
 * direct caller, who does not know the secret.
 */
export function postGraphQL<T = Record<string, any>>(
  url: string,
  body: { query: string; variables?: Record<string, unknown>; operationName?: string },
  options: { token?: string; headers?: Record<string, string>; signed?: boolean } = {},
): Promise<GraphQLResponse<T>> {
  const payload = JSON.stringify(body);
  // signed with the Authorization the request carries (the token's, unless a header of the test's own replaces it)
  const given = Object.entries(options.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  const authorization = given ?? (options.token ? `Bearer ${options.token}` : undefined);
  const signature = options.signed === false ? {} : { [SIGNATURE_HEADER]: signatureOf(TEST_SUBGRAPH_HMAC_SECRET, payload, authorization) };
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...signature,
          ...options.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: { data?: T | null; errors?: GraphQLResponse['errors'] };
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = { errors: [{ message: text, extensions: { code: 'NON_JSON_RESPONSE' } }] };
          }
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve({ status: response.statusCode ?? 0, headers, data: parsed.data, errors: parsed.errors });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** The codes of a response's errors, for compact assertions. */
export function errorCodes(response: GraphQLResponse): string[] {
  return (response.errors ?? []).map((e) => String(e.extensions?.code));
}

/** A browser's CORS preflight from `origin` for a POST with a JSON body and a bearer token. */
export function corsPreflight(url: string, origin: string): Promise<Response> {
  return fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
  });
}

/** The `access-control-*` headers of a response, for compact assertions (an origin that is not allowed gets none). */
export function corsHeadersOf(response: { headers: Headers }): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));
}

/**
 * Registers `features` with billing as their owner would at its start (a service token in the owner's name), for
 * tests that run billing without that owner.
 */
export async function registerDeclarations(billingUrl: string, owner: string, features: FeatureDeclaration[]): Promise<void> {
  const response = await postGraphQL(
    billingUrl,
    { query: 'mutation($owner: String!, $features: [FeatureDeclarationInput!]!) { registerFeatures(owner: $owner, features: $features) }', variables: { owner, features } },
    { token: await tokenFor({ role: 'service', sub: owner }) },
  );
  if (response.errors?.length) throw new Error(`registering ${owner}'s features failed: ${JSON.stringify(response.errors)}`);
}

/**
 * Reads until `check` holds (every 20 ms, at most `timeoutMs`), for what arrives by NOTIFY from another process or
 * plain SQL: delivered on commit, so the very next request may come before it. Throws with the last value read.
 */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms; last read: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
