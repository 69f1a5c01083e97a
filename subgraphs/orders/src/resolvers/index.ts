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
    ordersUsage: (subscription, _args, { orders }) => orders.usageOfSubscription(subscription),
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
