import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: every resolver hands the caller's request to the OrdersService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  Order: {
    __resolveReference: ({ id }, { orders }) => orders.referencedOrder(id),
    store: (order) => ({ id: order.storeId }),
  },
};
