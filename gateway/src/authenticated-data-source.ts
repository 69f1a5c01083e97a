import type http from 'node:http';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { AppError, ErrorCode, isClientErrorCode, SIGNATURE_HEADER, type Caller, type RequestSigner } from '@tiergraph/runtime';
import { GraphQLError } from 'graphql';
import { createHttpFetcher } from './http-fetcher';
import type { GatewayMetrics } from './metrics';
import { countsFetch, recordFetch, type RequestCacheState, type ResponseCache } from './response-cache';

type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher']>;

type SignableFetcher = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<unknown>;

/**
 * Signs here, in the fetcher, because only here is the body final: RemoteGraphQLDataSource serialises the request
 * after willSendRequest and hands the fetcher the string it sends (both fetchers send it as UTF-8, the bytes signed),
 * with the Authorization willSendRequest set (signed with it, so the body cannot be replayed with another token).
 */
function signing(send: SignableFetcher, sign: RequestSigner): SignableFetcher {
  return (url, init = {}) =>
    send(url, init.body === undefined ? init : { ...init, headers: { ...init.headers, [SIGNATURE_HEADER]: sign(init.body, init.headers?.authorization) } });
}

export interface GatewayContext {
  authorization: string;
  requestId: string;
  /** The verified token's caller: the response cache's scope. */
  caller?: Caller;
  /** What this request's subgraph fetches said they read or changed (response-cache.ts). */
  cache?: RequestCacheState;
}

/** A subgraph that did not answer in time or could not be reached: its own fields fail, the rest of the answer stands. */
export class SubgraphUnavailableError extends AppError {
  constructor(service: string, reason: 'timeout' | 'unreachable', detail: string, path: ReadonlyArray<string | number> | undefined) {
    super(`the ${service} service ${detail}; its fields are missing from this answer`, ErrorCode.SUBGRAPH_UNAVAILABLE, { serviceName: service, reason });
    // where the missing data would have gone (the gateway does not add a path to a fetch that failed)
    if (path?.length) (this as { path?: ReadonlyArray<string | number> }).path = path;
  }
}

/**
 * Sends each subgraph fetch with the caller's own token (subgraphs verify it again) and the request id,
 * and times it. Fetches without a client request (IntrospectAndCompose) carry the gateway's service token.
 * A fetch that does not answer within `timeoutMs`, or cannot connect, fails with SUBGRAPH_UNAVAILABLE naming the
 * service and the path, so a hung subgraph costs its own fields only. With a signer (SUBGRAPH_HMAC_SECRET), every
 * fetch carries `x-tiergraph-signature` over the exact body it sends, so subgraphs can tell the gateway's `_entities`
 * (representations it resolved itself) from a direct caller's.
 */
export class AuthenticatedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
    private readonly metrics: GatewayMetrics,
    private readonly serviceToken: () => Promise<string>,
    private readonly timeoutMs: number,
    /** `http` (default): node:http with a keep-alive LIFO pool (http-fetcher.ts); `fetch`: Node's fetch (undici). */
    client: { kind: 'http'; agent: http.Agent } | { kind: 'fetch' } = { kind: 'fetch' },
    sign?: RequestSigner,
    /** With GATEWAY_RESPONSE_CACHE=on: each fetch's `extensions.tags` go to the request's cache state. */
    private readonly responseCache?: ResponseCache,
  ) {
    // Both honour the subgraphs' keep-alive timeout; the default fetcher (make-fetch-happen) reuses the
    // longest-idle socket with no idle timeout and meets sockets the subgraph already closed (ECONNRESET).
    const send: SignableFetcher =
      client.kind === 'http'
        ? createHttpFetcher({ timeoutMs, agent: client.agent })
        : (input, init = {}) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }) as never;
    super({ url, fetcher: (sign ? signing(send, sign) : send) as unknown as Fetcher });
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const headers = request.http?.headers;
    if (!headers) return;
    if (context?.authorization) {
      headers.set('authorization', context.authorization);
      headers.set('x-request-id', context.requestId);
    } else {
      headers.set('authorization', `Bearer ${await this.serviceToken()}`);
    }
  }

  /**
   * A subgraph that refuses a request (HTTP 4xx, e.g. a DateTime variable that does not parse: BAD_USER_INPUT) answers
   * with GraphQL errors of its own; Apollo's default turns them into "400: Bad Request" with the subgraph's URL and
   * body in the extensions, which the gateway then masks. The subgraph's first coded error is the answer instead.
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]): Promise<GraphQLError> {
    const fallback = await super.errorFromResponse(response);
    const body = (fallback.extensions.response as { body?: { errors?: Array<{ message?: string; extensions?: Record<string, unknown> }> } } | undefined)?.body;
    const first = body?.errors?.find((e) => isClientErrorCode(e.extensions?.code));
    if (!first) return new GraphQLError(`the ${this.subgraph} service answered HTTP ${response.status}`, { extensions: { serviceName: this.subgraph } });
    const { code, field, retryable } = first.extensions ?? {};
    return new GraphQLError(first.message ?? `the ${this.subgraph} service refused the request`, {
      extensions: { code, ...(field !== undefined ? { field } : {}), ...(retryable === true ? { retryable } : {}), serviceName: this.subgraph },
    });
  }

  /** The response cache's hook: what this fetch read (a query) or changed (a mutation), from its extensions. */
  override async didReceiveResponse({ response, request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0]) {
    const state = context?.cache;
    if (this.responseCache && countsFetch(state, request.query)) recordFetch(this.responseCache, state, response.extensions);
    return response;
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): ReturnType<RemoteGraphQLDataSource['process']> {
    const state = options.context?.cache;
    // counted before it is sent: a fetch that fails (or says nothing) keeps the answer out of the cache
    if (this.responseCache && countsFetch(state, options.request.query)) state.fetches++;
    const end = this.metrics.subgraphFetchDuration.startTimer({ subgraph: this.subgraph });
    try {
      return await super.process(options);
    } catch (error) {
      const path = 'pathInIncomingRequest' in options ? options.pathInIncomingRequest : undefined;
      const name = (error as Error)?.name;
      if (name === 'TimeoutError') throw new SubgraphUnavailableError(this.subgraph, 'timeout', `did not answer within ${this.timeoutMs} ms`, path);
      const cause = (error as { cause?: { code?: string } })?.cause?.code;
      // by name: fetch's TypeError comes from another realm under jest (the http client throws the same shape)
      if (name === 'TypeError' && cause) throw new SubgraphUnavailableError(this.subgraph, 'unreachable', `is unreachable (${cause})`, path);
      throw error;
    } finally {
      end();
    }
  }
}
