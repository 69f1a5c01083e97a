import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, IntrospectAndCompose } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import {
  entitlementChangeTag,
  parseEntitlementChange,
  corsMiddleware,
  corsSettingsOf,
  createTokenVerifier,
  listen,
  listenOnChannels,
  maskInternalError,
  parseTagsPayload,
  requestSigner,
  queryProtection,
  requestScope,
  serviceTokenProvider,
  ENTITLEMENTS_CHANNEL,
  TAGS_CHANNEL,
  withRequestId,
  type ChangeListener,
  type Logger,
  type RunningServer,
  type SubgraphName,
} from '@tiergraph/runtime';
import express from 'express';
import type { Registry } from 'prom-client';
import { AuthenticatedDataSource, type GatewayContext } from './authenticated-data-source';
import type { GatewayEnv } from './env';
import { NullOnFailedEntityFetch } from './failed-entity-fetch';
import { mountGraphiQL } from './graphiql';
import { subgraphAgent } from './http-fetcher';
import { createGatewayMetrics } from './metrics';
import { ResponseCache, responseCachePlugin } from './response-cache';
import { mountStripeWebhookForward } from './stripe-webhook-forward';

export interface GatewayOptions {
  env: GatewayEnv;
  logger: Logger;
  port: number;
  host?: string;
  subgraphUrls: Record<SubgraphName, string>;
}

export type RunningGateway = RunningServer & { metrics: ReturnType<typeof createGatewayMetrics>; responseCache?: ResponseCache };

/** The health URL of a subgraph: its GraphQL URL with `/graphql` replaced by `/health`. */
export function healthUrlOf(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  url.pathname = url.pathname.replace(/\/graphql\/?$/, '') + '/health';
  return url.toString();
}

/**
 * The gateway: the committed static supergraph (IntrospectAndCompose only when asked), the caller's token
 * verified here and again by every subgraph, depth/alias/cost limits, masked internal errors with a request
 * id, CORS on `/graphql` for the allowed browser origins, `GET /health` (200 only when every subgraph answers),
 * `GET /metrics` (Prometheus) and `POST /webhooks/stripe` forwarded to billing.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { env, logger } = options;
  const metrics = createGatewayMetrics();
  const verifyToken = createTokenVerifier(env);
  const getServiceToken = serviceTokenProvider(env.AUTH_JWT_SECRET, 'gateway');

  const subgraphList = Object.entries(options.subgraphUrls).map(([name, url]) => ({ name, url }));
  const agent = env.GATEWAY_SUBGRAPH_CLIENT === 'http' ? subgraphAgent() : undefined;
  const client = agent ? ({ kind: 'http', agent } as const) : ({ kind: 'fetch' } as const);
  const sign = env.SUBGRAPH_HMAC_SECRET ? requestSigner(env.SUBGRAPH_HMAC_SECRET) : undefined;
  const { responseCache, listener } = await startResponseCache(env, logger, metrics.registry);
  const gateway = new ApolloGateway({
    ...(env.GATEWAY_INTROSPECT_AND_COMPOSE
      ? { supergraphSdl: new IntrospectAndCompose({ subgraphs: subgraphList }) }
      : { supergraphSdl: readFileSync(env.SUPERGRAPH_PATH, 'utf8') }),
    // a failed entity fetch answers its nullable fields as null, so a `@requires` on them still runs (failed-entity-fetch.ts)
    buildService: ({ name, url }) =>
      new NullOnFailedEntityFetch(
        new AuthenticatedDataSource(name, options.subgraphUrls[name as SubgraphName] ?? url!, metrics, getServiceToken, env.SUBGRAPH_TIMEOUT_MS, client, sign, responseCache),
      ),
    logger,
  });

  const protection = queryProtection(env, { production: env.NODE_ENV === 'production' });

  const cors = corsSettingsOf(env);
  const app = express();
  app.disable('x-powered-by');
  app.use(withRequestId);
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: env.NODE_ENV !== 'production',
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    validationRules: protection.validationRules,
    parseOptions: protection.parseOptions,
    plugins: [...protection.plugins, ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginLandingPageDisabled(),
      metrics.plugin,
      ...(responseCache ? [responseCachePlugin<GatewayContext>(responseCache)] : []),
    ],
    formatError: (formatted, error) => {
      const masked = maskInternalError(
        formatted,
        requestScope.getStore()?.requestId,
        ({ requestId }) => logger.error({ err: error, requestId }, 'internal error'),
        error,
      );
      metrics.errors.inc({ code: String(masked.extensions?.code ?? 'UNKNOWN') });
      return masked;
    },
  });
  await apollo.start();

  app.get('/health', async (_req, res) => {
    const checks = await Promise.all(
      subgraphList.map(async ({ name, url }) => {
        try {
          const response = await fetch(healthUrlOf(url), { signal: AbortSignal.timeout(env.SUBGRAPH_HEALTH_TIMEOUT_MS) });
          return [name, response.ok ? 'ok' : `status ${response.status}`] as const;
        } catch (error) {
          return [name, `unreachable: ${(error as Error).message}`] as const;
        }
      }),
    );
    const healthy = checks.every(([, status]) => status === 'ok');
    res.status(healthy ? 200 : 503).json({ status: healthy ? 'ok' : 'degraded', subgraphs: Object.fromEntries(checks) });
  });
  // Stripe's webhooks enter through the same public port and reach billing's sidecar unchanged
  mountStripeWebhookForward(app, { billingUrl: options.subgraphUrls.billing, timeoutMs: env.SUBGRAPH_TIMEOUT_MS, limit: '1mb', logger });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  // development: GraphiQL from the gateway's own packages (Apollo's landing pages load from a CDN, so they are off)
  if (env.NODE_ENV !== 'production') mountGraphiQL(app);
  // CORS for the allowed browser origins; csrfPrevention (above) still refuses, from any origin, the requests a
  // browser sends without a preflight
  app.use(
    '/graphql',
    corsMiddleware(cors),
    express.json({ limit: env.GATEWAY_BODY_LIMIT }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const authorization = req.header('authorization');
        const caller = await verifyToken(authorization);
        return { authorization: authorization!, requestId: requestScope.getStore()!.requestId, caller };
      },
    }),
  );
  // Body parser errors (too large, malformed JSON) answer in GraphQL's error shape.
  app.use((error: { status?: number; type?: string; message: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (!error?.status) return next(error);
    const code = error.type === 'entity.too.large' ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
    res.status(error.status).json({ errors: [{ message: error.message, extensions: { code } }] });
  });

  await listen(httpServer, options.port, options.host);
  const port = (httpServer.address() as AddressInfo).port;
  logger.info({ port, corsOrigins: cors.origins }, 'gateway ready');
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    metrics,
    responseCache,
    stop: () =>
      (stopping ??= apollo
        .stop()
        .then(() => listener?.close())
        .then(() => (agent?.destroy(), logger.info('gateway stopped')))),
  };
}

/**
 * GATEWAY_RESPONSE_CACHE=on: the cache and its LISTEN connection (notify.ts, with reconnect) on the tags channel
 * (counter triggers, billing's usage and every notifyTagsChanged) and on billing's entitlements channel (subscriptions,
 * overrides; `{ all: true }` for tiers and the feature catalog), so changes that do not pass this gateway evict too.
 */
async function startResponseCache(env: GatewayEnv, logger: Logger, registry: Registry): Promise<{ responseCache?: ResponseCache; listener?: ChangeListener }> {
  if (env.GATEWAY_RESPONSE_CACHE !== 'on') return {};
  const responseCache = new ResponseCache({
    maxEntries: env.GATEWAY_RESPONSE_CACHE_MAX_ENTRIES,
    maxBytes: Math.floor(env.GATEWAY_RESPONSE_CACHE_MAX_MB * 1024 * 1024),
    maxAgeMs: env.GATEWAY_RESPONSE_CACHE_MAX_AGE_MS,
    logger,
    registry,
  });
  const listener = await listenOnChannels({
    databaseUrl: env.DATABASE_URL!,
    logger,
    channels: [TAGS_CHANNEL, ENTITLEMENTS_CHANNEL],
    applicationName: 'tiergraph-gateway-response-cache',
    onNotification: (channel, payload) => {
      if (channel === TAGS_CHANNEL) return responseCache.invalidate(parseTagsPayload(payload), 'notify');
      responseCache.invalidate([entitlementChangeTag(parseEntitlementChange(payload))], 'entitlements');
    },
    onConnectionChange: (live) => responseCache.setLive(live),
  });
  logger.info({ maxEntries: env.GATEWAY_RESPONSE_CACHE_MAX_ENTRIES, maxMb: env.GATEWAY_RESPONSE_CACHE_MAX_MB, maxAgeMs: env.GATEWAY_RESPONSE_CACHE_MAX_AGE_MS }, 'response cache on');
  return { responseCache, listener };
}
