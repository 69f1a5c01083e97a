import http from 'node:http';
import type net from 'node:net';

export interface CountingProxy {
  /** Where to point a subgraph instead of the target (same path). */
  url: string;
  /** The GraphQL operation names of the requests forwarded so far, in order ('' when unnamed). */
  operations: string[];
  count(operationName: string): number;
  close(): Promise<void>;
}

/**
 * A real HTTP hop in front of a subgraph that forwards every request unchanged and records its operation name,
 * so a test can count the internal calls a process makes (an entitlement cache that hits makes none).
 */
export async function startCountingProxy(targetUrl: string): Promise<CountingProxy> {
  const target = new URL(targetUrl);
  const operations: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      let name = '';
      try {
        const parsed = JSON.parse(body.toString('utf8'));
        name = parsed.operationName ?? /^\s*(?:query|mutation)\s+(\w+)/.exec(parsed.query ?? '')?.[1] ?? '';
      } catch {
        // not JSON: forwarded all the same
      }
      operations.push(name);
      const forward = http.request(
        { host: target.hostname, port: target.port, path: request.url, method: request.method, headers: { ...request.headers, host: target.host }, agent: false },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forward.on('error', () => {
        response.writeHead(502);
        response.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    operations,
    count: (operationName) => operations.filter((o) => o === operationName).length,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
