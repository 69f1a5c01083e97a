import { spawn } from 'node:child_process';
import http from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { eventually, startBareSubgraphServer, testAuth } from '@tiergraph/testkit';
import { parse } from 'graphql';
import { signToken } from './auth';
import { bytesOf, mayWrite, requestScope, type GraphQLHandler, type RunningServer } from './server';

const schema = buildSubgraphSchema([
  {
    typeDefs: parse(`type Query { me: String! echo(text: String!): String! scoped: String } type Mutation { scoped: String }`),
    resolvers: {
      Query: {
        me: (_: unknown, __: unknown, ctx: { caller: { userId: string }; requestId: string }) => `${ctx.caller.userId} ${ctx.requestId}`,
        echo: (_: unknown, a: { text: string }) => a.text,
        // the request id requestScope holds for code without the context, after an await (null: no scope)
        scoped: async () => (await new Promise((r) => setImmediate(r)), requestScope.getStore()?.requestId ?? null),
      },
      Mutation: { scoped: async () => (await new Promise((r) => setImmediate(r)), requestScope.getStore()?.requestId ?? null) },
    },
  },
]);
function serve(graphqlHandler: GraphQLHandler): Promise<RunningServer> {
  return startBareSubgraphServer({ schema, bodyLimit: '2kb', graphqlHandler });
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, requestId: response.headers.get('x-request-id'), type: response.headers.get('content-type'), body: (await response.json()) as { data?: { me?: string }; errors?: Array<{ extensions: { code: string } }> } };
}

describe('POST /graphql served directly (without express) answers as the express middleware does', () => {
  let servers: Record<GraphQLHandler, RunningServer>;
  let token: string;
  beforeAll(async () => {
    servers = { direct: await serve('direct'), express: await serve('express') };
    token = await signToken(testAuth.AUTH_JWT_SECRET, { role: 'admin', sub: 'u1' });
  });
  afterAll(async () => {
    await servers.direct.stop();
    await servers.express.stop();
  });

  it.each<[string, () => string, () => Record<string, string>]>([
    ['a query with the caller and the given request id', () => JSON.stringify({ query: '{ me }' }), () => ({ authorization: `Bearer ${token}`, 'x-request-id': 'req-1' })],
    ['variables', () => JSON.stringify({ query: 'query($t: String!) { echo(text: $t) }', variables: { t: 'é' } }), () => ({ authorization: `Bearer ${token}`, 'x-request-id': 'req-2' })],
    ['no token: UNAUTHENTICATED', () => JSON.stringify({ query: '{ me }' }), () => ({ 'x-request-id': 'req-3' })],
    ['a query that does not validate', () => JSON.stringify({ query: '{ nope }' }), () => ({ authorization: `Bearer ${token}`, 'x-request-id': 'req-4' })],
  ])('%s', async (_what, body, headers) => {
    const [direct, viaExpress] = [await post(servers.direct.url, body(), headers()), await post(servers.express.url, body(), headers())];
    expect(direct).toEqual(viaExpress);
  });

  it('runs a request that may write in requestScope, and a read without it (direct); express scopes every request', async () => {
    const scopedOf = async (url: string, query: string, requestId: string) =>
      ((await post(url, JSON.stringify({ query }), { authorization: `Bearer ${token}`, 'x-request-id': requestId })).body.data as { scoped: string | null }).scoped;
    expect(await scopedOf(servers.direct.url, 'mutation { scoped }', 'w-1')).toBe('w-1');
    expect(await scopedOf(servers.direct.url, '{ scoped }', 'r-1')).toBeNull();
    expect(await scopedOf(servers.express.url, '{ scoped }', 'r-2')).toBe('r-2');
    // every scoped request has closed, so the storage is disabled again (reads after it run without its hooks)
    await eventually(async () => requestScope.active, (active) => active === 0, 2000);
    expect([mayWrite({ query: '{ a }' }), mayWrite({ query: 'query A { a } mutation B { b }' }), mayWrite({ extensions: {} }), mayWrite([{ query: '{ a }' }]), mayWrite(null)]).toEqual([
      false,
      true,
      true,
      true,
      true,
    ]);
  });

  it('gives a request without a well-formed id one of its own', async () => {
    const answer = await post(servers.direct.url, JSON.stringify({ query: '{ me }' }), { authorization: `Bearer ${token}`, 'x-request-id': 'bad id with spaces' });
    expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.body.data?.me).toBe(`u1 ${answer.requestId}`);
  });

  it('refuses a body over the limit (413) and JSON that does not parse (400) in GraphQL’s error shape', async () => {
    const large = await post(servers.direct.url, JSON.stringify({ query: `{ echo(text: "${'x'.repeat(3000)}") }` }), { authorization: `Bearer ${token}` });
    expect(large.status).toBe(413);
    expect(large.body.errors?.[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    const broken = await post(servers.direct.url, '{"query": ', { authorization: `Bearer ${token}` });
    expect(broken.status).toBe(400);
    expect(broken.body.errors?.[0].extensions.code).toBe('BAD_REQUEST');
  });

  /**
   * A request that keeps sending: the first chunk already passes the 2 kB limit and the body never ends. The answer
   * must come without waiting for the rest, and the server must close the connection instead of draining what comes.
   */
  function sendWithoutEnding(url: string, headers: Record<string, string>): Promise<{ status: number; code: string; closedByServer: boolean }> {
    return new Promise((resolve, reject) => {
      const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
      request.on('error', reject);
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const answer = { status: response.statusCode!, code: (JSON.parse(text) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code };
          // the body was never ended: only the server can close this socket, and it must do so soon after answering
          if (request.socket?.destroyed) return resolve({ ...answer, closedByServer: true });
          const open = setTimeout(() => {
            resolve({ ...answer, closedByServer: false });
            request.destroy();
          }, 2_000);
          request.socket!.once('close', () => {
            clearTimeout(open);
            resolve({ ...answer, closedByServer: true });
          });
        });
      });
      request.write(JSON.stringify({ query: `{ echo(text: "${'x'.repeat(3000)}") }` }));
    });
  }

  it('answers 413 to an oversized chunked body as soon as it passes the limit, and stops reading it', async () => {
    const { direct } = servers;
    await expect(sendWithoutEnding(direct.url, { authorization: `Bearer ${token}` })).resolves.toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', closedByServer: true });
  });

  it('answers 413 to a declared oversized length without draining the body, and closes the connection', async () => {
    const { direct } = servers;
    await expect(sendWithoutEnding(direct.url, { authorization: `Bearer ${token}`, 'content-length': String(10 * 1024 * 1024) })).resolves.toEqual({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      closedByServer: true,
    });
  });

  it('reads sizes as express does', () => {
    expect([bytesOf('1mb'), bytesOf('100kb'), bytesOf('512b'), bytesOf(7)]).toEqual([1048576, 102400, 512, 7]);
  });
});

describe('stopOnSignals', () => {
  /** A process that stops on signals with `stop` (JS source of an async function), after printing "ready". */
  function child(stopSource: string): Promise<{ code: number | null; output: string; ms: number }> {
    const script = `
      const { stopOnSignals } = require(${JSON.stringify(require.resolve('./server'))});
      const { createLogger } = require(${JSON.stringify(require.resolve('./logger'))});
      stopOnSignals(${stopSource}, createLogger('stop-test', 'info'), 300);
      setInterval(() => undefined, 1000); // something keeps it running, as a server does
      console.log('ready');`;
    const proc = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    return new Promise((resolve) => {
      let sentAt = 0;
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (!sentAt && output.includes('ready')) {
          sentAt = Date.now();
          proc.kill('SIGTERM');
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.once('exit', (code) => resolve({ code, output, ms: Date.now() - sentAt }));
    });
  }

  it('exits with 0 once stopping is done', async () => {
    const { code, output } = await child('async () => undefined');
    expect(code).toBe(0);
    expect(output).not.toContain('did not finish in time');
  }, 30_000);

  it('exits with 1 when stopping never finishes (a graceful stop waiting on a database that is gone), after its deadline', async () => {
    const { code, output } = await child('() => new Promise(() => undefined)');
    expect(code).toBe(1);
    expect(output).toContain('stopping did not finish in time');
  }, 30_000);
});
