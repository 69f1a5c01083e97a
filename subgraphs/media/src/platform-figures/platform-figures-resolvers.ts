import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: media's PlatformMetrics fields hand the request to the MediaPlatformFiguresService. */
export const platformFiguresResolvers: Pick<Resolvers, 'PlatformMetrics'> = {
  PlatformMetrics: {
    __resolveReference: ({ id }, { platformFigures }) => platformFigures.reference(id),
    mediaFileCount: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).mediaFileCount,
    mediaVariantCount: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).mediaVariantCount,
    mediaStoredBytes: async (metrics, _args, { platformFigures }) => (await platformFigures.get(metrics)).mediaStoredBytes,
  },
};
