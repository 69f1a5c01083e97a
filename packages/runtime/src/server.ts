import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express, type Request } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import type { Caller, TokenVerifier } from './auth';
import { maskInternalError } from './errors';
import { compiledExecution, type SubgraphExecutor } from './executor';
import type { Logger } from './logger';
import { DEFAULT_QUERY_LIMITS, queryProtection, type QueryLimits } from './query-limits';
import { SIGNATURE_HEADER, SIGNATURE_VERDICT, signatureRequirementPlugin, signatureVerifier, type SignatureVerdict } from './request-signature';
import { ResponseTags, responseTagsPlugin } from './response-tags';

/** What every subgraph resolver gets; subgraphs extend it with their services and loaders. */
export interface RequestContext extends BaseContext {
  caller: Caller;
  requestId: string;
  logger: Logger;
  /** What this answer depends on and what this request changed, for the gateway's response cache (response-tags.ts). */
  tags: ResponseTags;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export function requestIdOf(req: Request): string {
  const given = req.header('x-request-id');
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

interface Scope {
  requestId: string;
  tags?: ResponseTags;
}

/**
 * The current request's id and tags collector, for code that is not handed the context: a store naming what its
 * write changed (response-tags.ts), formatError, REST routes.
 *
 * AsyncLocalStorage costs every promise of the whole process while it is enabled (Node 20 propagates it with promise
 * hooks): about 12 % of billing's time for an `_entities` answer of 1,000 subscriptions (bench/RESULTS.md). So it is
 * enabled only while a request that may write runs in it: every request express serves (REST routes, the gateway)
 * and every GraphQL request whose text has a mutation (mayWrite). A read runs outside it, and code under a read finds
 * no scope (nothing under a read names a change; formatError takes the request id from the error, see
 * requestIdOfErrors).
 */
class RequestScope {
  private readonly storage = new AsyncLocalStorage<Scope>();
  private running = 0;

  /** Scoped requests not yet closed; at 0 the storage is disabled. */
  get active(): number {
    return this.running;
  }

  /** Runs `fn` in `scope` until `res` closes (its answer is out, or the connection went). */
  run<T>(scope: Scope, res: { once(event: 'close', listener: () => void): unknown }, fn: () => T): T {
    this.running++;
    res.once('close', () => {
      if (--this.running === 0) this.storage.disable();
    });
    return this.storage.run(scope, fn);
  }

  getStore(): Scope | undefined {
    return this.running > 0 ? this.storage.getStore() : undefined;
  }
}

export const requestScope = new RequestScope();

/** Whether a GraphQL request body may write: anything but one operation text without a mutation. */
export function mayWrite(body: unknown): boolean {
  const query = body && typeof body === 'object' && !Array.isArray(body) ? (body as { query?: unknown }).query : undefined;
  return typeof query !== 'string' || /\bmutation\b/.test(query);
}

/** Express middleware: gives every request an id (the caller's `x-request-id` when well-formed) and echoes it. */
export function withRequestId(req: Request, res: express.Response, next: express.NextFunction): void {
  const requestId = requestIdOf(req);
  res.setHeader('x-request-id', requestId);
  // a collector of its own, so a store under the express handler can name what it changed (response-tags.ts)
  requestScope.run({ requestId, tags: new ResponseTags() }, res, next);
}

/**
 * The request id of every error Apollo Server is about to format, set by requestIdPlugin from the request's context
 * (Apollo Server hands formatError the same error objects, but not the context): a read runs outside requestScope.
 */
const requestIdOfErrors = new WeakMap<object, string>();
function rememberRequestId(error: unknown, requestId: string): void {
  if (error && typeof error === 'object') requestIdOfErrors.set(error, requestId);
}
/** The error's request id, or that of the error it wraps (Apollo Server wraps a failed context's error). */
function requestIdOfError(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const original = (error as { originalError?: unknown }).originalError;
  return requestIdOfErrors.get(error) ?? (original && typeof original === 'object' ? requestIdOfErrors.get(original) : undefined);
}
// one listener for every request: what it needs comes with the call
const requestIdListener = {
  async didEncounterErrors({ contextValue, errors }: { contextValue: RequestContext; errors: readonly object[] }) {
    for (const error of errors) rememberRequestId(error, contextValue.requestId);
  },
};
const requestIdPlugin: ApolloServerPlugin<RequestContext> = {
  async requestDidStart() {
    return requestIdListener;
  },
};

export interface SubgraphServerOptions<TContext extends RequestContext> {
  name: string;
  port: number;
  host?: string;
  schema: GraphQLSchema;
  dataSource: DataSource;
  verifyToken: TokenVerifier;
  logger: Logger;
  introspection: boolean;
  /** Adds the subgraph's services and per-request loaders to the verified base context. */
  buildContext: (base: RequestContext) => TContext;
  /** Extra REST routes (webhooks, uploads), mounted before /graphql. */
  configureApp?: (app: Express) => void;
  bodyLimit?: string;
  /** Depth, alias, cost and token limits (the gateway's defaults unless given). */
  queryLimits?: QueryLimits;
  /**
   * How `POST /graphql` with a JSON body is served: `direct` (default) hands it to Apollo Server from node:http, without
   * express's router and body parser; `express` is the express middleware (every other route and request always is).
   */
  graphqlHandler?: GraphQLHandler;
  /**
   * SUBGRAPH_HMAC_SECRET: when set, `_entities` is answered only for requests signed with it (request-signature.ts),
   * and a request whose signature does not match its body and Authorization, or is too old, is refused. Unset: no
   * signature is asked for.
   */
  signatureSecret?: string;
  /**
   * Apollo Server's cache-control plugin, which wraps every field's resolver to compute a cache policy per field. No
   * schema declares a cache hint and the default max age is 0, so it never sets a header: off (default) saves that
   * per-field work (SUBGRAPH_CACHE_CONTROL).
   */
  cacheControl?: boolean;
  /** How a parsed, validated operation is executed: graphql-jit (`compiled`, default) or graphql-js; executor.ts. */
  executor?: SubgraphExecutor;
}

export type GraphQLHandler = 'direct' | 'express';

/** '1mb', '100kb', '512b' or a number of bytes. */
export function bytesOf(limit: string | number): number {
  if (typeof limit === 'number') return limit;
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(limit.trim());
  if (!match) throw new Error(`not a size: ${limit}`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(match[1]) * unit);
}

export interface RunningServer {
  url: string;
  port: number;
  stop: () => Promise<void>;
}

/**
 * One subgraph process: Apollo Server on express with `/graphql`, `GET /health` (database reachable),
 * per-request token verification (the gateway already checked; a direct call is checked the same way),
 * masked internal errors and a graceful stop.
 */
export async function startSubgraphServer<TContext extends RequestContext>(
  options: SubgraphServerOptions<TContext>,
): Promise<RunningServer> {
  const { logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.use(withRequestId);
  let direct: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  // POST /graphql with a JSON body straight to Apollo Server when `direct`; everything else through express
  const httpServer = http.createServer((req, res) => {
    if (direct && req.method === 'POST' && isGraphQLPath(req.url) && isJson(req.headers['content-type'])) direct(req, res);
    else app(req, res);
  });
  const limits = options.queryLimits ?? DEFAULT_QUERY_LIMITS;
  // The gateway's depth, alias and cost limits as they are. Tokens: the gateway's query to a subgraph for a client
  // query near the limit adds __typename, keys and representations' fields, so a subgraph allows four times as many.
  const protection = queryProtection({ ...limits, GRAPHQL_MAX_TOKENS: limits.GRAPHQL_MAX_TOKENS * 4 }, { production: !options.introspection });
  // Each request's signature verdict, taken from the body bytes as they arrived and the Authorization header (both
  // handlers below), for the plugin.
  const secret = options.signatureSecret;
  const verifySignature = secret ? signatureVerifier(secret) : undefined;
  const verdictOfBody = (body: Buffer | undefined, authorization: string | undefined, header: string | string[] | undefined): SignatureVerdict =>
    !verifySignature ? 'valid' : body === undefined ? (header === undefined ? 'missing' : 'invalid') : verifySignature(body, authorization, header);
  const signatureCheck = secret
    ? [signatureRequirementPlugin<TContext>((context) => (context as { [SIGNATURE_VERDICT]?: SignatureVerdict })[SIGNATURE_VERDICT] ?? 'missing')]
    : [];

  const apollo = new ApolloServer<TContext>({
    ...((options.executor ?? 'compiled') === 'compiled' ? { gateway: compiledExecution(options.schema) } : { schema: options.schema }),
    introspection: options.introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    // the gateway's limits again: a subgraph can be called directly
    validationRules: protection.validationRules,
    parseOptions: protection.parseOptions,
    plugins: [
      ...signatureCheck,
      ...protection.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginInlineTraceDisabled(),
      ...(options.cacheControl ? [] : [ApolloServerPluginCacheControlDisabled()]),
      responseTagsPlugin<TContext>(),
      requestIdPlugin as ApolloServerPlugin<TContext>,
    ],
    formatError: (formatted, error) =>
      maskInternalError(
        formatted,
        requestScope.getStore()?.requestId ?? requestIdOfError(error),
        ({ requestId }) => logger.error({ err: error, requestId }, 'internal error'),
        error,
      ),
  });
  await apollo.start();

  app.get('/health', async (_req, res) => {
    try {
      await options.dataSource.query('SELECT 1');
      res.json({ status: 'ok', service: options.name });
    } catch (error) {
      logger.warn({ err: error }, 'health check failed');
      res.status(503).json({ status: 'unavailable', service: options.name });
    }
  });
  options.configureApp?.(app);
  const contextOf = async (requestId: string, authorization: string | undefined, signature: SignatureVerdict) => {
    // a refused token (or a failed lookup behind it) is formatted without any plugin having seen the request
    const caller = await options.verifyToken(authorization).catch((error: unknown) => {
      rememberRequestId(error, requestId);
      throw error;
    });
    // the same collector as requestScope's where the request runs in it (direct), so stores can name what they change
    const tags = requestScope.getStore()?.tags ?? new ResponseTags();
    const context = options.buildContext({ caller, requestId, logger: logger.child({ requestId }), tags });
    // a symbol-keyed own property: Apollo Server hands plugins a shallow copy of the context, which keeps it
    return Object.assign(context, { [SIGNATURE_VERDICT]: signature });
  };
  const bodyVerdicts = new WeakMap<object, SignatureVerdict>();
  app.use(
    '/graphql',
    express.json({
      limit: options.bodyLimit ?? '1mb',
      // the raw bytes, before parsing: what the gateway signed
      verify: secret ? (req, _res, raw) => void bodyVerdicts.set(req, verdictOfBody(raw, req.headers.authorization, req.headers[SIGNATURE_HEADER])) : undefined,
    }),
    expressMiddleware(apollo, {
      context: ({ req }) =>
        contextOf(
          requestScope.getStore()?.requestId ?? requestIdOf(req),
          req.header('authorization'),
          bodyVerdicts.get(req) ?? verdictOfBody(undefined, undefined, req.headers[SIGNATURE_HEADER]),
        ),
    }),
  );
  if ((options.graphqlHandler ?? 'direct') === 'direct') {
    direct = directGraphQLHandler(apollo, { bodyLimit: bytesOf(options.bodyLimit ?? '1mb'), contextOf, verdictOfBody, logger });
  }

  await listen(httpServer, options.port, options.host);
  const port = (httpServer.address() as AddressInfo).port;
  logger.info({ port }, `${options.name} subgraph ready`);
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    stop: () =>
      (stopping ??= (async () => {
        await apollo.stop();
        if (options.dataSource.isInitialized) await options.dataSource.destroy();
        logger.info(`${options.name} subgraph stopped`);
      })()),
  };
}

const isGraphQLPath = (url: string | undefined) => !!url && (url === '/graphql' || url.startsWith('/graphql?') || url === '/graphql/');
const isJson = (contentType: string | undefined) => !!contentType && /^application\/json\b/i.test(contentType);

/**
 * `POST /graphql` with a JSON body, as expressMiddleware serves it (same request id handling, same context, same
 * answers from Apollo Server) but without express's router, `req`/`res` decoration and body-parser per request.
 * A body over the limit is 413 and JSON that does not parse is 400, both in GraphQL's error shape.
 */
function directGraphQLHandler<TContext extends RequestContext>(
  apollo: ApolloServer<TContext>,
  options: {
    bodyLimit: number;
    contextOf: (requestId: string, authorization: string | undefined, signature: SignatureVerdict) => Promise<TContext>;
    verdictOfBody: (body: Buffer, authorization: string | undefined, header: string | string[] | undefined) => SignatureVerdict;
    logger: Logger;
  },
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const refuse = (res: http.ServerResponse, status: number, code: string, message: string) => {
    const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
  };
  return (req, res) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    // Over the limit: answer 413 at once, read nothing more and close the connection once the answer is out (what
    // is still coming is not read into memory, nor drained: a client cannot keep the process busy with it).
    const tooLarge = () => {
      req.removeAllListeners('data');
      req.pause();
      res.setHeader('connection', 'close');
      res.once('finish', () => req.destroy());
      refuse(res, 413, 'PAYLOAD_TOO_LARGE', 'request entity too large');
    };
    const declared = Number(req.headers['content-length']);
    if (declared > options.bodyLimit) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= options.bodyLimit) return void chunks.push(chunk);
      refused = true;
      chunks.length = 0;
      tooLarge();
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (refused) return;
      let body: unknown;
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const signature = options.verdictOfBody(raw, req.headers.authorization, req.headers[SIGNATURE_HEADER]);
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (error) {
        return refuse(res, 400, 'BAD_REQUEST', (error as Error).message);
      }
      const headers = new HeaderMap();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const query = req.url!.indexOf('?');
      const answer = () =>
        apollo
          .executeHTTPGraphQLRequest({
            httpGraphQLRequest: { method: 'POST', headers, search: query < 0 ? '' : req.url!.slice(query), body },
            context: () => options.contextOf(requestId, typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined, signature),
          })
          .then(async (response) => {
            for (const [name, value] of response.headers) res.setHeader(name, value);
            res.statusCode = response.status ?? 200;
            if (response.body.kind === 'complete') {
              res.end(response.body.string);
              return;
            }
            for await (const chunk of response.body.asyncIterator) res.write(chunk);
            res.end();
          })
          .catch((error: Error) => {
            options.logger.error({ err: error, requestId }, 'GraphQL request failed');
            if (!res.headersSent) refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'internal error');
            else res.destroy();
          });
      // a request that may write runs in requestScope, so its stores can name what they changed; a read runs without
      if (mayWrite(body)) requestScope.run({ requestId, tags: new ResponseTags() }, res, answer);
      else answer();
    });
  };
}

/** Listens, turning "port taken" into a clear message. */
export function listen(server: http.Server, port: number, host = '0.0.0.0'): Promise<void> {
  // Keep idle connections longer than the clients' pools do (the gateway, a load balancer), so a client never
  // reuses a socket the server is closing at that moment.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is already in use (set another with its *_PORT variable)`) : error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Set by a supervisor (`pnpm start`) that holds the write end of the child's standard input: when the supervisor is
 * gone, however it went (SIGKILL included), the pipe closes and the child stops by itself instead of running on
 * orphaned.
 */
export const STOP_WITH_PARENT_VAR = 'TIERGRAPH_STOP_WITH_PARENT';

/**
 * How long stopping may take before the process exits anyway (with 1): as long as `pnpm start` waits before its
 * SIGKILL. An orphaned service stops while its PostgreSQL stops too, and a graceful stop waiting on the database
 * (pg-boss waits up to 30 s for its jobs) would otherwise keep it running without a supervisor.
 */
export const STOP_DEADLINE_MS = 10_000;

/**
 * Stops on SIGINT/SIGTERM/SIGHUP, once, and exits with 0 (1 when stopping failed or passed its deadline); under a
 * supervisor, also when the supervisor is gone (see STOP_WITH_PARENT_VAR).
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, deadlineMs = STOP_DEADLINE_MS): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, signal === 'parent gone' ? 'the supervisor is gone; stopping' : 'stopping');
    setTimeout(() => {
      logger.error({ signal, deadlineMs }, 'stopping did not finish in time; exiting without it');
      process.exit(1);
    }, deadlineMs).unref();
    stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => handler('SIGINT'));
  process.once('SIGTERM', () => handler('SIGTERM'));
  process.once('SIGHUP', () => handler('SIGHUP'));
  if (process.env[STOP_WITH_PARENT_VAR] === '1') {
    process.stdin.once('close', () => handler('parent gone'));
    process.stdin.once('end', () => handler('parent gone'));
    process.stdin.resume();
  }
}
