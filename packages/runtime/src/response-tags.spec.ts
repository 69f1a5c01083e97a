import { parse, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { parseTagsPayload, ResponseTags, tag, tagsPayload, ALL_TAGS, MAX_TAGS_PAYLOAD } from './response-tags';

const operation = (source: string) => parse(source).definitions[0] as OperationDefinitionNode;
/** The resolve info of a field at `keys` (root first), as graphql-js links it. */
const at = (...keys: Array<string | number>): Pick<GraphQLResolveInfo, 'path'> => ({
  path: keys.reduce<GraphQLResolveInfo['path'] | undefined>((prev, key) => ({ prev, key, typename: undefined }), undefined)!,
});

describe('ResponseTags', () => {
  it('names what the answer read only when every root field of the query declared', () => {
    const query = operation('query { merchant(id: 1) { id stores { id } } other: tiers { code } __typename }');
    const tags = new ResponseTags();
    tags.depends(at('merchant', 'stores', 0), tag.merchant('m'));
    expect(tags.extension(query)).toBeUndefined(); // `other` declared nothing
    tags.depends(at('other'), tag.tiers);
    expect(tags.extension(query)).toEqual({ reads: ['merchant:m', 'tiers'] });
  });

  it('an _entities fetch is one root field; uncacheable() withholds the reads, and the earliest validUntil is kept', () => {
    const entities = operation('query ($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { catalogUsage { code } } } }');
    const tags = new ResponseTags();
    tags.depends(at('_entities', 0, 'catalogUsage'), tag.merchantPlatform({ merchantId: 'm', platformId: 'p' }));
    tags.validUntil('2030-01-02T00:00:00Z');
    tags.validUntil(new Date('2030-01-01T00:00:00Z'));
    tags.validUntil(null);
    expect(tags.extension(entities)).toEqual({ reads: ['ms:m:p'], expiresAt: Date.parse('2030-01-01T00:00:00Z') });
    tags.uncacheable();
    expect(tags.extension(entities)).toBeUndefined();
  });

  it('names what a mutation changed, and never reads for a mutation', () => {
    const mutation = operation('mutation { createProduct(input: {}) { id } }');
    const tags = new ResponseTags();
    tags.depends(at('createProduct'), 'store:s');
    expect(tags.extension(mutation)).toBeUndefined();
    tags.change('ms:m:p', 'store:s');
    expect(tags.extension(mutation)).toEqual({ changed: ['ms:m:p', 'store:s'] });
  });

  it('a one-field mutation whose write rolled back says it changed nothing (`changed: []`), never one of two fields or a fragment', () => {
    const one = operation('mutation { placeOrder(input: {}) { id } }');
    const tags = new ResponseTags();
    expect(tags.extension(one)).toBeUndefined(); // silence: the gateway must assume anything changed
    tags.rolledBack();
    expect(tags.extension(one)).toEqual({ changed: [] });
    // a sibling field may have written without naming it: silence again
    expect(tags.extension(operation('mutation { placeOrder(input: {}) { id } other: deleteProduct(id: 1) }'))).toBeUndefined();
    expect(tags.extension(operation('mutation { ...F } fragment F on Mutation { placeOrder(input: {}) { id } }'))).toBeUndefined();
    // what else the request named still goes out
    tags.change('store:s');
    expect(tags.extension(one)).toEqual({ changed: ['store:s'] });
    // and a query's reads are not touched by it
    expect(new ResponseTags().extension(operation('query { tiers { code } }'))).toBeUndefined();
  });

  it('NOTIFY payloads: tags separated by spaces, `*` when they would not fit', () => {
    expect(tagsPayload(['a', 'b', 'a'])).toBe('a b');
    expect(parseTagsPayload('a b')).toEqual(['a', 'b']);
    expect(parseTagsPayload(undefined)).toEqual([ALL_TAGS]);
    const many = Array.from({ length: MAX_TAGS_PAYLOAD / 10 }, (_, i) => `ms:${i}:platform`);
    expect(tagsPayload(many)).toBe(ALL_TAGS);
  });
});
