import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: billing's PlatformMetrics fields hand the request to the BillingPlatformFiguresService. */
export const platformFiguresResolvers: Pick<Resolvers, 'PlatformMetrics'> = {
  PlatformMetrics: {
    __resolveReference: ({ id }, { platformFigures }) => platformFigures.reference(id),
    subscriptionCounts: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).statusCounts,
    liveTierDistribution: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).liveTierDistribution,
    featureCapacity: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).featureCapacity,
  },
};
