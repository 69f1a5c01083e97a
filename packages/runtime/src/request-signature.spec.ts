import { buildSubgraphSchema } from '@apollo/subgraph';
import { freePort } from '@tiergraph/testkit';
import { parse, type OperationDefinitionNode } from 'graphql';
import type { DataSource } from 'typeorm';
import { createTokenVerifier, signToken } from './auth';
import { EnvError, parseEnv } from './env';
import { callSubgraph, withSigner } from './internal-client';
import { createLogger } from './logger';
import { requestSigner, selectsEntities, SIGNATURE_HEADER, SIGNATURE_WINDOW_SECONDS, signatureOf, signatureVerifier } from './request-signature';
import { startSubgraphServer, type GraphQLHandler, type RunningServer } from './server';
import { subgraphEnvSchema } from './subgraph-env';

const JWT_SECRET = 'a-secret-of-sufficient-length-1';
const HMAC_SECRET = 'an-hmac-secret-of-at-least-32-characters';

describe('signatureOf / signatureVerifier', () => {
  const body = Buffer.from('{"query":"{ _entities }","variables":{"r":[{"é":1}]}}', 'utf8');
  const NOW = 1_764_590_400_000;
  const at = Math.floor(NOW / 1000);
  const token = 'Bearer aaa.bbb.ccc';
  const signed = signatureOf(HMAC_SECRET, body, token, at);
  const verify = signatureVerifier(HMAC_SECRET, () => NOW);

  it('is t=<seconds>,sha256= and the hex HMAC; a string is signed as its UTF-8 bytes; the signer signs the same', () => {
    expect(signed).toMatch(/^t=\d+,sha256=[0-9a-f]{64}$/);
    expect(signatureOf(HMAC_SECRET, body.toString('utf8'), token, at)).toBe(signed);
    expect(requestSigner(HMAC_SECRET, () => NOW)(body, token)).toBe(signed);
  });

  it.each<[string, string | string[] | undefined, string]>([
    ['the signature of the body and token', signed, 'valid'],
    ['no header', undefined, 'missing'],
    ['another secret', signatureOf(`${HMAC_SECRET}x`, body, token, at), 'invalid'],
    ['another body', signatureOf(HMAC_SECRET, Buffer.concat([body, Buffer.from(' ')]), token, at), 'invalid'],
    ['the same body signed with another token (a captured body replayed with a token of the replayer)', signatureOf(HMAC_SECRET, body, 'Bearer other.token.x', at), 'invalid'],
    ['the same body signed without a token', signatureOf(HMAC_SECRET, body, undefined, at), 'invalid'],
    ['the timestamp changed after signing', signed.replace(`t=${at}`, `t=${at + 1}`), 'invalid'],
    [`signed ${SIGNATURE_WINDOW_SECONDS} s ago`, signatureOf(HMAC_SECRET, body, token, at - SIGNATURE_WINDOW_SECONDS), 'valid'],
    [`signed ${SIGNATURE_WINDOW_SECONDS + 1} s ago (replayed later)`, signatureOf(HMAC_SECRET, body, token, at - SIGNATURE_WINDOW_SECONDS - 1), 'expired'],
    [`signed ${SIGNATURE_WINDOW_SECONDS + 1} s ahead`, signatureOf(HMAC_SECRET, body, token, at + SIGNATURE_WINDOW_SECONDS + 1), 'expired'],
    ['no timestamp (the old body-only form)', signed.slice(signed.indexOf('sha256=')), 'invalid'],
    ['truncated', signed.slice(0, -2), 'invalid'],
    ['trailing junk after the hex', `${signed}zz`, 'invalid'],
    ['upper-case junk', 'sha256=NOPE', 'invalid'],
    ['the header twice', [signed, signed], 'invalid'],
  ])('%s', (_what, header, verdict) => {
    expect(verify(body, token, header)).toBe(verdict);
  });
});

describe('selectsEntities', () => {
  const check = (query: string) => {
    const document = parse(query);
    return selectsEntities(document, document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!);
  };
  it.each<[string, boolean]>([
    ['query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', true],
    ['query($r: [_Any!]!) { x: _entities(representations: $r) { __typename } }', true],
    ['query($r: [_Any!]!) { ... on Query { _entities(representations: $r) { __typename } } }', true],
    ['query($r: [_Any!]!) { ...F } fragment F on Query { _entities(representations: $r) { __typename } }', true],
    ['{ me }', false],
    ['{ _service { sdl } }', false],
  ])('%s → %s', (query, expected) => {
    expect(check(query)).toBe(expected);
  });
});

describe('SUBGRAPH_HMAC_SECRET in the environment', () => {
  const base = { DATABASE_URL: 'postgres://u:p@localhost/db', AUTH_JWT_SECRET: JWT_SECRET };
  it('is required with NODE_ENV=production, as the JWT default secret is refused there', () => {
    expect(() => parseEnv(subgraphEnvSchema('billing'), { ...base, NODE_ENV: 'production' })).toThrow(EnvError);
    expect(() => parseEnv(subgraphEnvSchema('billing'), { ...base, NODE_ENV: 'production' })).toThrow(/SUBGRAPH_HMAC_SECRET: required with NODE_ENV=production/);
    expect(parseEnv(subgraphEnvSchema('billing'), { ...base, NODE_ENV: 'production', SUBGRAPH_HMAC_SECRET: HMAC_SECRET }).SUBGRAPH_HMAC_SECRET).toBe(HMAC_SECRET);
  });
  it('is optional in development and must be long enough when given', () => {
    expect(parseEnv(subgraphEnvSchema('billing'), base).SUBGRAPH_HMAC_SECRET).toBeUndefined();
    expect(() => parseEnv(subgraphEnvSchema('billing'), { ...base, SUBGRAPH_HMAC_SECRET: 'short' })).toThrow(/SUBGRAPH_HMAC_SECRET: must be at least 32 characters/);
  });
});

const schema = buildSubgraphSchema([
  {
    typeDefs: parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Query { me: String! }
      type Thing @key(fields: "id") { id: ID! seen: String! }
    `),
    resolvers: {
      Query: { me: () => 'me' },
      Thing: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }), seen: (thing: { id: string }) => `seen ${thing.id}` },
    },
  },
]);
const dataSource = { isInitialized: false, query: async () => [] } as unknown as DataSource;

async function serve(graphqlHandler: GraphQLHandler, signatureSecret: string | undefined): Promise<RunningServer> {
  return startSubgraphServer({
    name: 'test',
    port: await freePort(),
    host: '127.0.0.1',
    schema,
    dataSource,
    verifyToken: createTokenVerifier({ AUTH_JWT_SECRET: JWT_SECRET }),
    logger: createLogger('test', 'silent'),
    introspection: false,
    buildContext: (base) => base,
    graphqlHandler,
    signatureSecret,
  });
}

const ENTITIES = JSON.stringify({ query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Thing { seen } } }', variables: { r: [{ __typename: 'Thing', id: '1' }] } });
const ROOT = JSON.stringify({ query: '{ me }' });

async function post(url: string, body: string, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const answer = (await response.json()) as { data?: unknown; errors?: Array<{ message: string; extensions: { code: string; reason?: string } }> };
  return { status: response.status, data: answer.data ?? null, codes: answer.errors?.map((e) => `${e.extensions.code}${e.extensions.reason ? `:${e.extensions.reason}` : ''}`) ?? [] };
}

describe.each<GraphQLHandler>(['direct', 'express'])('a subgraph with SUBGRAPH_HMAC_SECRET (%s handler)', (handler) => {
  let server: RunningServer;
  let open: RunningServer;
  let auth: Record<string, string>;
  beforeAll(async () => {
    [server, open] = await Promise.all([serve(handler, HMAC_SECRET), serve(handler, undefined)]);
    auth = { authorization: `Bearer ${await signToken(JWT_SECRET, { role: 'admin', sub: 'u1' })}` };
  });
  afterAll(async () => {
    await server.stop();
    await open.stop();
  });

  it('answers _entities signed over the body', async () => {
    expect(await post(server.url, ENTITIES, { ...auth, [SIGNATURE_HEADER]: signatureOf(HMAC_SECRET, ENTITIES, auth.authorization) })).toEqual({
      status: 200,
      data: { _entities: [{ seen: 'seen 1' }] },
      codes: [],
    });
  });

  it('refuses unsigned _entities with 403 FORBIDDEN, even with an admin token, and resolves nothing', async () => {
    expect(await post(server.url, ENTITIES, auth)).toEqual({ status: 403, data: null, codes: ['FORBIDDEN:signature-missing'] });
  });

  it('refuses a signed request whose body was changed after signing', async () => {
    const tampered = ENTITIES.replace('"id":"1"', '"id":"2"');
    expect(await post(server.url, tampered, { ...auth, [SIGNATURE_HEADER]: signatureOf(HMAC_SECRET, ENTITIES, auth.authorization) })).toEqual({
      status: 403,
      data: null,
      codes: ['FORBIDDEN:signature-invalid'],
    });
  });

  it('refuses any operation whose signature does not match (a gateway with another secret fails loudly)', async () => {
    expect(await post(server.url, ROOT, { ...auth, [SIGNATURE_HEADER]: signatureOf('another-secret-of-at-least-32-characters', ROOT, auth.authorization) })).toEqual({
      status: 403,
      data: null,
      codes: ['FORBIDDEN:signature-invalid'],
    });
  });

  it('refuses a signed body sent again with another token, and one sent again after the window', async () => {
    const other = `Bearer ${await signToken(JWT_SECRET, { role: 'admin', sub: 'u2' })}`;
    const captured = signatureOf(HMAC_SECRET, ENTITIES, auth.authorization);
    expect(await post(server.url, ENTITIES, { authorization: other, [SIGNATURE_HEADER]: captured })).toEqual({ status: 403, data: null, codes: ['FORBIDDEN:signature-invalid'] });
    const old = signatureOf(HMAC_SECRET, ENTITIES, auth.authorization, Math.floor(Date.now() / 1000) - SIGNATURE_WINDOW_SECONDS - 5);
    expect(await post(server.url, ENTITIES, { ...auth, [SIGNATURE_HEADER]: old })).toEqual({ status: 403, data: null, codes: ['FORBIDDEN:signature-expired'] });
  });

  it('answers root fields to an unsigned caller with a token (they authorise by the token)', async () => {
    expect(await post(server.url, ROOT, auth)).toEqual({ status: 200, data: { me: 'me' }, codes: [] });
  });

  it('still asks for the token first: unsigned and without a token is UNAUTHENTICATED', async () => {
    expect((await post(server.url, ENTITIES, {})).codes).toEqual(['UNAUTHENTICATED']);
  });

  it('without the secret, asks for no signature (development, tests outside pnpm start)', async () => {
    expect(await post(open.url, ENTITIES, auth)).toEqual({ status: 200, data: { _entities: [{ seen: 'seen 1' }] }, codes: [] });
  });

  it("signs a subgraph's internal calls (callSubgraph with a signer), which are answered", async () => {
    const token = withSigner(async () => signToken(JWT_SECRET, { role: 'service', sub: 'other' }), requestSigner(HMAC_SECRET));
    const data = await callSubgraph<{ _entities: unknown[] }>(server.url, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Thing { seen } } }', { r: [{ __typename: 'Thing', id: '7' }] }, token);
    expect(data).toEqual({ _entities: [{ seen: 'seen 7' }] });
    const unsigned = async () => signToken(JWT_SECRET, { role: 'service', sub: 'other' });
    await expect(callSubgraph(server.url, 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: [{ __typename: 'Thing', id: '7' }] }, unsigned)).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
  });
});
