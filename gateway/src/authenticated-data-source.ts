import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayMetrics } from './metrics';

type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher']>;

export interface GatewayContext {
  authorization: string;
  requestId: string;
}

/**
 * Sends each subgraph fetch with the caller's own token (subgraphs verify it again) and the request id,
 * and times it. Fetches without a client request (IntrospectAndCompose) carry the gateway's service token.
 */
export class AuthenticatedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
    private readonly metrics: GatewayMetrics,
    private readonly serviceToken: () => Promise<string>,
  ) {
    // Node's own fetch (undici) honours the subgraphs' keep-alive timeout; the default fetcher reuses the
    // longest-idle socket with no idle timeout and meets sockets the subgraph already closed (ECONNRESET).
    super({ url, fetcher: fetch as unknown as Fetcher });
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

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): ReturnType<RemoteGraphQLDataSource['process']> {
    const end = this.metrics.subgraphFetchDuration.startTimer({ subgraph: this.subgraph });
    try {
      return await super.process(options);
    } finally {
      end();
    }
  }
}
