import { tag } from '@tiergraph/runtime';
import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { platformFiguresResolvers } from '../platform-figures/platform-figures-resolvers';

/** Thin: every resolver hands the caller's request to the OrdersService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  ...platformFiguresResolvers,
  Mutation: {
    placeOrder: (_root, { input }, { orders }) => orders.placeOrder(input),
  },
  MerchantSubscription: {
    __resolveReference: (subscription, { orders }) => orders.referencedMerchantSubscription(subscription),
    // response tags: the count in the period the representation names (billing tags the period's end)
    ordersUsage: (subscription, _args, { orders, tags }, info) => (tags.depends(info, tag.merchantPlatform(subscription)), orders.usageOfSubscription(subscription)),
  },
  Store: {
    // the representation is the store: tenancy's merchantId/platformId arrive with it where a field @requires them
    ordersUsage: (store, _args, { orders }) => orders.usageOfStore(store),
  },
  Order: {
    __resolveReference: ({ id }, { orders }) => orders.referencedOrder(id),
    store: (order) => ({ id: order.storeId }),
    items: (order, _args, { orders }) => orders.itemsOf(order),
  },
};
