import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: tenancy's PlatformMetrics fields hand the request to the TenancyPlatformFiguresService. */
export const platformFiguresResolvers: Pick<Resolvers, 'PlatformMetrics'> = {
  PlatformMetrics: {
    __resolveReference: ({ id }, { platformFigures }) => platformFigures.reference(id),
    storeCount: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).storeCount,
    activeStoreCount: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).activeStoreCount,
    teamMemberCount: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).teamMemberCount,
  },
};
