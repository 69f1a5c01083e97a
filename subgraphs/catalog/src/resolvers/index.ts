import { tag } from '@tiergraph/runtime';
import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { platformFiguresResolvers } from '../platform-figures/platform-figures-resolvers';

/** Thin: every resolver hands the caller's request to the CatalogService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  ...platformFiguresResolvers,
  Mutation: {
    createProduct: (_root, { input }, { catalog }) => catalog.createProduct(input),
    deleteProduct: (_root, { id }, { catalog }) => catalog.deleteProduct(id),
  },
  MerchantSubscription: {
    __resolveReference: (key, { catalog }) => catalog.referencedMerchantSubscription(key),
    catalogUsage: (subscription, _args, { catalog, tags }, info) => (tags.depends(info, tag.merchantPlatform(subscription)), catalog.usageOfMerchant(subscription)),
  },
  Store: {
    // the representation is the store: tenancy's merchantId/platformId arrive with it where a field @requires them
    catalogUsage: (store, _args, { catalog }) => catalog.usageOfStore(store),
    products: (store, args, { catalog }) => catalog.productsOfStore(store, args),
  },
  Product: {
    __resolveReference: ({ id }, { catalog }) => catalog.referencedProduct(id),
    isActive: (product) => product.isActive && !product.deletedAt,
    store: (product) => ({ id: product.storeId }),
  },
};
