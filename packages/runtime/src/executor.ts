import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import { execute, GraphQLError, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

/**
 * How a subgraph executes an operation Apollo Server has parsed and validated:
 * - `compiled` (default): graphql-jit compiles each operation once into a function and runs that; the gateway sends
 *   the same few operation texts with new variables, so the compiled function is reused. What it saves is the
 *   per-field work of graphql-js's interpreter (argument coercion, one promise per object, field lookups), which
 *   dominates a wide `_entities` answer such as the admin page's 1,000 subscriptions. The answers are graphql-js's
 *   (the same data, errors with their paths and codes, null propagation, serial mutations) with one difference: when
 *   two sibling fields fail, both errors are reported, where graphql-js reports the first and drops the other.
 * - `graphql-js`: Apollo Server's own execute.
 */
export type SubgraphExecutor = 'compiled' | 'graphql-js';

/** Compiled operations kept per process; the gateway sends a few dozen distinct texts, clients calling directly more. */
export const COMPILED_OPERATIONS_CACHED = 500;

type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type GatewayExecutor = NonNullable<Awaited<ReturnType<GatewayInterface['load']>>['executor']>;
type GatewayRequest = Parameters<GatewayExecutor>[0];
type GatewayResult = Awaited<ReturnType<GatewayExecutor>>;

/** An operation graphql-jit refused to compile: graphql-js runs it, and says what is wrong with it. */
const NOT_COMPILED = Symbol('not compiled');

/**
 * Apollo Server 4+ takes a custom executor only through its `gateway` option (its migration guide's replacement for
 * the removed `executor` option): this is that object, serving one fixed schema. Parsing, validation (the query
 * limits), every plugin hook except per-field ones (none here use them) and error formatting stay Apollo Server's.
 */
export function compiledExecution(schema: GraphQLSchema, cached = COMPILED_OPERATIONS_CACHED): GatewayInterface {
  const compiledByOperation = new LRUCache<string, CompiledQuery | typeof NOT_COMPILED>({ max: cached });
  const byGraphQLJs = (request: GatewayRequest) =>
    execute({
      schema,
      document: request.document,
      operationName: request.operationName,
      variableValues: request.request.variables,
      contextValue: request.context,
    }) as Promise<GatewayResult>;
  const executor: GatewayExecutor = async (request) => {
    // the operation text and name pick the compiled function (the document is the text parsed)
    const key = `${request.operationName ?? ''}\n${request.source}`;
    let compiled = compiledByOperation.get(key);
    if (!compiled) {
      const outcome = compileQuery(schema, request.document, request.operationName ?? undefined);
      compiled = isCompiledQuery(outcome) ? outcome : NOT_COMPILED;
      compiledByOperation.set(key, compiled);
    }
    if (compiled === NOT_COMPILED) return byGraphQLJs(request);
    const result: ExecutionResult = await compiled.query(undefined, request.context, request.request.variables ?? {});
    // No data: the variables were refused before anything ran. graphql-js words that refusal the way Apollo Server
    // and formatError recognise (a BAD_USER_INPUT naming the variable), so it answers it.
    if (result.data === undefined) return byGraphQLJs(request);
    return (result.errors ? { ...result, errors: result.errors.map(asGraphQLJsError) } : result) as GatewayResult;
  };
  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async stop() {},
  };
}

/**
 * graphql-jit's errors are its own GraphQLError look-alike, whose `extensions` is undefined when the thrown error has
 * none; Apollo Server reads `extensions.code` of every error and, failing, answers a bare INTERNAL_SERVER_ERROR without
 * calling formatError (so no DATABASE_UNAVAILABLE, no request id). The same error as graphql-js builds it.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: error.originalError as Error | undefined });
  // graphql-js computes locations from AST nodes, which graphql-jit does not keep: its computed ones instead
  return Object.assign(rebuilt, { locations: error.locations });
}
