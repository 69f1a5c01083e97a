import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, type ValidationRule } from 'graphql';
import { z } from 'zod';

/**
 * The query limits every GraphQL endpoint applies — the gateway and each subgraph, since a subgraph can be called
 * directly: depth, aliases, cost (graphql-armor) and tokens (the parser); and an unknown or missing operation name
 * answered 400 with its code instead of a 500.
 */
export const queryLimitsEnvShape = {
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(12),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(15),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(20000),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(1).default(2000),
};
export type QueryLimits = { [K in keyof typeof queryLimitsEnvShape]: z.infer<(typeof queryLimitsEnvShape)[K]> };
export const DEFAULT_QUERY_LIMITS: QueryLimits = z.object(queryLimitsEnvShape).parse({});

const badRequest = (message: string, code: string) => new GraphQLError(message, { extensions: { code, http: { status: 400 } } });

/**
 * No operation to run — an unknown operationName, or several operations without one — is the client's mistake: 400
 * with OPERATION_RESOLUTION_FAILURE. (Apollo Server answers it so only when it executes a schema itself; in front of
 * a gateway it became a 500.)
 */
const operationResolutionPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, request }) {
        if (operation) return;
        throw badRequest(
          request.operationName ? `Unknown operation named "${request.operationName}".` : 'Must provide operation name if query contains multiple operations.',
          'OPERATION_RESOLUTION_FAILURE',
        );
      },
    };
  },
};

/**
 * The ApolloServer options of the limits: validation rules and plugins (graphql-armor's depth, alias and cost limits,
 * field suggestions hidden in production) and the parser's own token limit (graphql-js `maxTokens`: a query over it is
 * a GRAPHQL_PARSE_FAILED, 400, before any further work).
 */
export function queryProtection(
  limits: QueryLimits,
  options: { production: boolean },
): { validationRules: ValidationRule[]; plugins: ApolloServerPlugin[]; parseOptions: { maxTokens: number } } {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.GRAPHQL_MAX_DEPTH },
    maxAliases: { n: limits.GRAPHQL_MAX_ALIASES },
    costLimit: { maxCost: limits.GRAPHQL_MAX_COST },
    // armor's own token plugin re-parses in parsingDidStart, where a throw is a 500: the parser's option instead
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: options.production },
  }).protect();
  return {
    validationRules: armor.validationRules as ValidationRule[],
    plugins: [...(armor.plugins as ApolloServerPlugin[]), operationResolutionPlugin],
    parseOptions: { maxTokens: limits.GRAPHQL_MAX_TOKENS },
  };
}
