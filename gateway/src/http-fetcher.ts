import http from 'node:http';
import https from 'node:https';

/**
 * The gateway's subgraph client on `node:http` instead of `fetch` (undici): no web streams, AbortSignal or Request/
 * Response objects per fetch, which cost about 60 % of the gateway's CPU per MerchantFeatures (issue 12's profile).
 * It is what RemoteGraphQLDataSource needs of a fetcher (ok, status, statusText, url, headers.get, text, json)
 * and nothing more; bodies are small JSON documents, read whole.
 *
 * Failures look like fetch's, so the data source maps them as before: a fetch that has not finished within
 * `timeoutMs` (headers and body) fails with an Error named `TimeoutError`; one that cannot connect or loses its
 * connection fails with a TypeError whose `cause.code` is the socket's code (ECONNREFUSED, ECONNRESET, …).
 */
export interface HttpFetcherOptions {
  timeoutMs: number;
  /** The pool for `http:` subgraphs; `https:` ones get a pool of the same shape, made when first needed. */
  agent?: http.Agent;
}

// Idle sockets are closed after 30 s, well under the subgraphs' keepAliveTimeout (65 s, runtime's listen()), so
// the agent never picks a socket the server is closing.
const POOL: http.AgentOptions = { keepAlive: true, scheduling: 'lifo', timeout: 30_000, maxSockets: Infinity, maxFreeSockets: 256 };

/** One keep-alive pool per gateway: LIFO reuses the socket used last (warm, never near the server's idle timeout). */
export function subgraphAgent(): http.Agent {
  return new http.Agent(POOL);
}

class Headers {
  constructor(private readonly raw: http.IncomingHttpHeaders) {}
  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) yield [name, this.get(name)!];
  }
}

export class HttpFetcherResponse {
  readonly ok: boolean;
  readonly headers: Headers;
  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    headers: http.IncomingHttpHeaders,
    private readonly body: string,
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = new Headers(headers);
  }
  async text(): Promise<string> {
    return this.body;
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.body);
  }
  clone(): HttpFetcherResponse {
    return this;
  }
}

const timeoutError = (ms: number) => Object.assign(new Error(`the request did not finish within ${ms} ms`), { name: 'TimeoutError' });
const networkError = (cause: NodeJS.ErrnoException) => new TypeError(`request failed: ${cause.message}`, { cause });

interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export function createHttpFetcher(options: HttpFetcherOptions): (url: string, init?: RequestInit) => Promise<HttpFetcherResponse> {
  const agent = options.agent ?? subgraphAgent();
  let secureAgent: https.Agent | undefined;
  const parsed = new Map<string, URL>();
  const send = (url: string, init: RequestInit, body: Buffer | undefined, deadline: number, retried: boolean): Promise<HttpFetcherResponse> =>
    new Promise((resolve, reject) => {
      let target = parsed.get(url);
      if (!target) parsed.set(url, (target = new URL(url)));
      const headers: Record<string, string | number> = { ...init.headers };
      if (body) headers['content-length'] = body.length;
      const secure = target.protocol === 'https:';
      const request = (secure ? https : http).request({
        agent: secure ? (secureAgent ??= new https.Agent(POOL)) : agent,
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: init.method ?? 'GET',
        headers,
      });
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        request.destroy();
        reject(timeoutError(options.timeoutMs));
      }, Math.max(0, deadline - Date.now()));
      const fail = (error: NodeJS.ErrnoException, gotResponse: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // A kept-alive socket the server closed between two requests: nothing was processed, send once more on a
        // fresh one (what Node's documentation advises for request.reusedSocket).
        if (!gotResponse && !retried && request.reusedSocket && error.code === 'ECONNRESET') {
          send(url, init, body, deadline, true).then(resolve, reject);
          return;
        }
        reject(networkError(error));
      };
      request.once('error', (error) => fail(error, false));
      request.once('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('error', (error) => fail(error, true));
        response.once('aborted', () => fail(Object.assign(new Error('the response was cut off'), { code: 'ECONNRESET' }), true));
        response.once('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
          resolve(new HttpFetcherResponse(url, response.statusCode ?? 0, response.statusMessage ?? '', response.headers, text));
        });
      });
      request.end(body);
    });
  return (url, init = {}) => {
    const body = init.body === undefined ? undefined : Buffer.from(init.body, 'utf8');
    return send(url, init, body, Date.now() + options.timeoutMs, false);
  };
}
