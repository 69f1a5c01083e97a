import http from 'node:http';
import net from 'node:net';
import { freePort } from '@tiergraph/testkit';
import { createHttpFetcher, subgraphAgent } from './http-fetcher';

/** A server on a free port; `handler` answers each request. */
async function serve(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/graphql`, server };
}

function closeAll(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('the gateway subgraph client on node:http', () => {
  const agent = subgraphAgent();
  afterAll(() => agent.destroy());

  it('sends method, headers and body, and answers as fetch would (status, headers, text, json)', async () => {
    const { url, server } = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.statusCode = req.headers.authorization === 'Bearer t' ? 200 : 401;
        res.end(JSON.stringify({ method: req.method, body, length: req.headers['content-length'] }));
      });
    });
    try {
      const fetcher = createHttpFetcher({ timeoutMs: 5000, agent });
      const body = JSON.stringify({ query: '{ é }' });
      const response = await fetcher(url, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body });
      expect(response.ok).toBe(true);
      expect(response.status).toBe(200);
      expect(response.url).toBe(url);
      expect(response.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
      expect(await response.json()).toEqual({ method: 'POST', body, length: String(Buffer.byteLength(body)) });
      const refused = await fetcher(url, { method: 'POST', headers: {}, body: '{}' });
      expect(refused.ok).toBe(false);
      expect(refused.status).toBe(401);
      expect(refused.statusText).toBe('Unauthorized');
      expect(JSON.parse(await refused.text())).toMatchObject({ method: 'POST' });
    } finally {
      await closeAll(server);
    }
  });

  it('fails with a TimeoutError when the server accepts and never answers', async () => {
    const held: net.Socket[] = [];
    const hung = net.createServer((socket) => held.push(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => hung.listen(port, '127.0.0.1', resolve));
    try {
      const fetcher = createHttpFetcher({ timeoutMs: 200, agent });
      const error = await fetcher(`http://127.0.0.1:${port}/graphql`, { method: 'POST', body: '{}' }).catch((e: Error) => e);
      expect((error as Error).name).toBe('TimeoutError');
    } finally {
      held.forEach((s) => s.destroy());
      hung.close();
    }
  });

  it('fails with a TypeError whose cause names the socket error when nothing listens', async () => {
    // a free port that nothing listens on
    const port = await freePort();
    const error = (await createHttpFetcher({ timeoutMs: 2000, agent })(`http://127.0.0.1:${port}/graphql`, { method: 'POST', body: '{}' }).catch((e) => e)) as TypeError & {
      cause?: { code?: string };
    };
    expect(error.name).toBe('TypeError');
    expect(error.cause?.code).toBe('ECONNREFUSED');
  });

  it('speaks TLS to an https: subgraph (refused like any other, not an invalid protocol)', async () => {
    const port = await freePort();
    const error = (await createHttpFetcher({ timeoutMs: 2000, agent })(`https://127.0.0.1:${port}/graphql`, { method: 'POST', body: '{}' }).catch((e) => e)) as TypeError & {
      cause?: { code?: string };
    };
    expect(error.name).toBe('TypeError');
    expect(error.cause?.code).toBe('ECONNREFUSED');
  });

  it('sends again on a fresh socket when the kept-alive one was closed by the server in between', async () => {
    let requests = 0;
    const { url, server } = await serve((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.end('{"ok":true}'));
    });
    // the server drops every idle connection without telling the client (as one past its keepAliveTimeout does)
    const sockets = new Set<net.Socket>();
    server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    const own = subgraphAgent();
    try {
      const fetcher = createHttpFetcher({ timeoutMs: 5000, agent: own });
      expect(await (await fetcher(url, { method: 'POST', body: '{}' })).text()).toBe('{"ok":true}');
      await new Promise((r) => setImmediate(r));
      for (const s of sockets) s.resetAndDestroy();
      expect(await (await fetcher(url, { method: 'POST', body: '{}' })).text()).toBe('{"ok":true}');
      expect(requests).toBe(2);
    } finally {
      own.destroy();
      await closeAll(server);
    }
  });
});
