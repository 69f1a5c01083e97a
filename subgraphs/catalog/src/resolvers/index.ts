import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: every resolver hands the caller's request to the CatalogService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  Product: {
    __resolveReference: ({ id }, { catalog }) => catalog.referencedProduct(id),
    store: (product) => ({ id: product.storeId }),
  },
};
