import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  getNamedType,
  GraphQLError,
  GraphQLID,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
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
  /**
   * The check of string literals in a query (control characters, overlong ids) depends on the document only: `document`
   * (default) walks each parsed document once and keeps the verdict; `request` walks it on every request (as before).
   */
  GRAPHQL_INPUT_CHECK: z.enum(['document', 'request']).default('document'),
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

/** The longest id accepted anywhere (ours are UUIDs; Stripe's are shorter than this too). */
export const MAX_ID_LENGTH = 128;
/** C0 control characters but tab, line feed and carriage return, and DEL: PostgreSQL refuses NUL in text outright. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

const badInput = (message: string, field: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field, http: { status: 400 } } });

/** The first problem of one input value of `type` at `field`, or null: a control character in text, an overlong id. */
function inputProblem(value: unknown, type: GraphQLInputType, field: string): GraphQLError | null {
  if (value === null || value === undefined) return null;
  if (isNonNullType(type)) return inputProblem(value, type.ofType, field);
  if (isListType(type)) {
    const items = Array.isArray(value) ? value : [value];
    for (const [i, item] of items.entries()) {
      const problem = inputProblem(item, type.ofType, `${field}.${i}`);
      if (problem) return problem;
    }
    return null;
  }
  if (isInputObjectType(type)) {
    if (typeof value !== 'object') return null;
    for (const [name, inner] of Object.entries(type.getFields())) {
      const problem = inputProblem((value as Record<string, unknown>)[name], inner.type, `${field}.${name}`);
      if (problem) return problem;
    }
    return null;
  }
  return stringProblem(value, type, field);
}

function stringProblem(value: unknown, type: GraphQLInputType, field: string): GraphQLError | null {
  if (typeof value !== 'string') return null;
  if (CONTROL.test(value)) return badInput(`${field} must not contain control characters`, field);
  if (getNamedType(type) === GraphQLID && value.length > MAX_ID_LENGTH) return badInput(`${field} is longer than ${MAX_ID_LENGTH} characters`, field);
  return null;
}

/** Variables of the operation, checked against their declared input types (per request: the values change). */
function variableProblemOf(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Record<string, unknown>): GraphQLError | null {
  for (const definition of operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type as never) as GraphQLInputType | undefined;
    const name = definition.variable.name.value;
    const problem = type ? inputProblem(variables[name], type, name) : null;
    if (problem) return problem;
  }
  return null;
}

/** The first string literal of the document that is not acceptable text, or null: the same for every request of it. */
function literalProblemOf(schema: GraphQLSchema, document: DocumentNode): GraphQLError | null {
  let found: GraphQLError | null = null;
  const typeInfo = new TypeInfo(schema);
  const names: string[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
      ObjectField: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
      [Kind.STRING]: (node) => {
        const type = typeInfo.getInputType();
        if (!found && type) found = stringProblem(node.value, type, names.join('.') || 'input');
      },
    }),
  );
  return found;
}

/**
 * literalProblemOf once per parsed document: Apollo Server keeps one DocumentNode per query text (its document store),
 * so the walk with a TypeInfo over every node happens once per query, not once per request. Keyed by schema too (a
 * gateway's schema is replaced on a supergraph update). The verdict is kept as text: each request throws its own error.
 */
function literalCheckPerDocument(): (schema: GraphQLSchema, document: DocumentNode) => GraphQLError | null {
  const verdicts = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, { message: string; field: string } | null>>();
  return (schema, document) => {
    let bySchema = verdicts.get(schema);
    if (!bySchema) verdicts.set(schema, (bySchema = new WeakMap()));
    let verdict = bySchema.get(document);
    if (verdict === undefined) {
      const problem = literalProblemOf(schema, document);
      verdict = problem ? { message: problem.message, field: String(problem.extensions.field) } : null;
      bySchema.set(document, verdict);
    }
    return verdict ? badInput(verdict.message, verdict.field) : null;
  };
}

/**
 * Text is text: a control character in any string input (a NUL reached PostgreSQL as an internal error) and an id
 * longer than MAX_ID_LENGTH are BAD_USER_INPUT naming the field, whatever the operation.
 */
function inputGuardPlugin(check: QueryLimits['GRAPHQL_INPUT_CHECK']): ApolloServerPlugin {
  const literalProblem = check === 'document' ? literalCheckPerDocument() : literalProblemOf;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const problem = variableProblemOf(schema, operation, request.variables ?? {}) ?? literalProblem(schema, document);
          if (problem) throw problem;
        },
      };
    },
  };
}

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
    plugins: [...(armor.plugins as ApolloServerPlugin[]), operationResolutionPlugin, inputGuardPlugin(limits.GRAPHQL_INPUT_CHECK)],
    parseOptions: { maxTokens: limits.GRAPHQL_MAX_TOKENS },
  };
}
