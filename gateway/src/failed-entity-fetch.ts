import { LRUCache } from 'lru-cache';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import {
  Kind,
  isNonNullType,
  isObjectType,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

type Response = Awaited<ReturnType<GraphQLDataSource['process']>>;
type Representation = { __typename?: unknown } & Record<string, unknown>;

/**
 * A failed `_entities` fetch answers its nullable fields as null, as a field error inside the subgraph would.
 *
 * Why: @apollo/gateway builds the representations of a later fetch (`@requires`) from the data fetched so far, and
 * skips an entity whose required field is *missing* (executeQueryPlan.ts, executeSelectionSet: "we don't have all the
 * necessary inputs for this particular entity and should ignore it"). A subgraph that is down or timed out leaves its
 * fields missing, not null, whatever their nullability (apollographql/federation#3180 describes exactly this; it was
 * not merged). So one failed usage contributor cost billing's whole `features` and, by null propagation, the
 * subscription. With this, a failed fetch of a nullable field (the usage contributions are nullable) hands `null` to
 * the fetch that requires it, which can answer the rest (billing: that owner's features unknown).
 *
 * The client's answer is what it was (a null nullable field, the same error, same path); only fields that are
 * nullable in the API schema are filled, non-null ones stay missing so the gateway nulls their parent as before.
 */
export class NullOnFailedEntityFetch<TContext extends Record<string, any>> implements GraphQLDataSource<TContext> {
  /** Per fetch query (from the query-plan cache: few and stable; bounded so a flood of plans cannot grow it). */
  private readonly selections = new LRUCache<string, ReadonlyMap<string, readonly string[]>>({ max: 1000 });

  constructor(private readonly inner: GraphQLDataSource<TContext>) {}

  async process(options: GraphQLDataSourceProcessOptions<TContext>): Promise<Response> {
    const representations = options.request.variables?.representations;
    // only a client request's fetches (not schema loading or health checks) carry the API schema
    if (!('incomingRequestContext' in options) || !Array.isArray(representations) || !options.request.query) return this.inner.process(options);
    const schema = options.incomingRequestContext.schema;
    const query = options.request.query;
    let response: Response;
    try {
      response = await this.inner.process(options);
    } catch (error) {
      const entities = representations.map((r: Representation) => this.nullEntity(query, schema, r));
      if (entities.every((e) => e === null)) throw error;
      // path []: the gateway prefixes the fetch's own path, where the thrown error would have pointed
      return { data: { _entities: entities }, errors: [formatted(error)] };
    }
    const received = (response.data as { _entities?: unknown } | null | undefined)?._entities;
    if (!Array.isArray(received)) {
      if (!response.errors?.length) return response;
      const entities = representations.map((r: Representation) => this.nullEntity(query, schema, r));
      return entities.every((e) => e === null) ? response : { ...response, data: { ...response.data, _entities: entities } };
    }
    // an entity the subgraph answered null for because a non-null field of it failed (an error says so): its nullable
    // fields are null; a null without an error is a reference the subgraph does not know, and stays null
    if (!response.errors?.length || received.length !== representations.length || !received.includes(null)) return response;
    const entities = received.map((entity, i) => entity ?? this.nullEntity(query, schema, representations[i] as Representation));
    return { ...response, data: { ...response.data, _entities: entities } };
  }

  /** The entity a failed fetch stands for: its typename and every selected field nullable in the schema, null. */
  private nullEntity(query: string, schema: GraphQLSchema, representation: Representation): Record<string, unknown> | null {
    const typename = representation?.__typename;
    if (typeof typename !== 'string') return null;
    const fields = this.nullableSelections(query, schema).get(typename);
    if (!fields?.length) return null;
    const entity: Record<string, unknown> = { __typename: typename };
    for (const responseName of fields) entity[responseName] = null;
    return entity;
  }

  private nullableSelections(query: string, schema: GraphQLSchema) {
    let found = this.selections.get(query);
    if (found) return found;
    found = nullableSelectionsOf(parse(query), schema);
    this.selections.set(query, found);
    return found;
  }
}

/** Per entity type: the response names of the top-level fields the `_entities` fetch selects that are nullable in the schema. */
function nullableSelectionsOf(document: DocumentNode, schema: GraphQLSchema): Map<string, string[]> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const result = new Map<string, string[]>();
  const collect = (typename: string, set: SelectionSetNode) => {
    const type = schema.getType(typename);
    if (!isObjectType(type)) return;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        const field = type.getFields()[s.name.value];
        if (!field || isNonNullType(field.type)) continue;
        const list = result.get(typename) ?? [];
        list.push(s.alias?.value ?? s.name.value);
        result.set(typename, list);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        collect(s.typeCondition?.name.value ?? typename, s.selectionSet);
      } else {
        const fragment = fragments.get(s.name.value);
        if (fragment) collect(fragment.typeCondition.name.value, fragment.selectionSet);
      }
    }
  };
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const s of d.selectionSet.selections) {
      if (s.kind !== Kind.FIELD || s.name.value !== '_entities' || !s.selectionSet) continue;
      for (const inner of s.selectionSet.selections) {
        if (inner.kind === Kind.INLINE_FRAGMENT && inner.typeCondition) collect(inner.typeCondition.name.value, inner.selectionSet);
        else if (inner.kind === Kind.FRAGMENT_SPREAD) {
          const fragment = fragments.get(inner.name.value);
          if (fragment) collect(fragment.typeCondition.name.value, fragment.selectionSet);
        }
      }
    }
  }
  return result;
}

function formatted(error: unknown): GraphQLFormattedError {
  const e = error as { message?: unknown; extensions?: Record<string, unknown> };
  return { message: typeof e?.message === 'string' ? e.message : String(error), extensions: { ...(e?.extensions ?? {}) }, path: [] };
}
