import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: catalog's PlatformMetrics fields hand the request to the CatalogPlatformFiguresService. */
export const platformFiguresResolvers: Pick<Resolvers, 'PlatformMetrics'> = {
  PlatformMetrics: {
    __resolveReference: ({ id }, { platformFigures }) => platformFigures.reference(id),
    productCount: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).productCount,
  },
};
