import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: orders' PlatformMetrics fields hand the request to the OrdersPlatformFiguresService. */
export const platformFiguresResolvers: Pick<Resolvers, 'PlatformMetrics'> = {
  PlatformMetrics: {
    __resolveReference: ({ id }, { platformFigures }) => platformFigures.reference(id),
    orderCountSince: (metrics, { since }, { platformFigures }) => platformFigures.orderCountSince(metrics, since),
  },
};
