import { tag } from '@tiergraph/runtime';
import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { platformFiguresResolvers } from '../platform-figures/platform-figures-resolvers';

/** Thin: every resolver hands the caller's request to the MediaService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  ...platformFiguresResolvers,
  Query: {
    mediaStorageStats: (_root, _args, { media }) => media.storageStats(),
  },
  Mutation: {
    deleteMedia: (_root, { id }, { media }) => media.deleteMedia(id),
  },
  MerchantSubscription: {
    __resolveReference: (key, { media }) => media.referencedMerchantSubscription(key),
    mediaUsage: (subscription, _args, { media, tags }, info) => (tags.depends(info, tag.merchantPlatform(subscription)), media.usageOfMerchant(subscription)),
  },
  Store: {
    // the representation is the store: tenancy's merchantId/platformId arrive with it where a field @requires them
    mediaUsage: (store, _args, { media }) => media.usageOfStore(store),
    media: (store, args, { media }) => media.mediaOfStore(store, args),
  },
  MediaFile: {
    __resolveReference: ({ id }, { media }) => media.referencedMediaFile(id),
    // bigint arrives from pg as a string
    sizeBytes: (file) => Number(file.sizeBytes),
    storedBytes: (file) => Number(file.storedBytes),
    store: (file) => ({ id: file.storeId }),
    variants: (file, _args, { media }) => media.variantsOf(file),
  },
  MediaVariant: {
    url: (variant, _args, { media }) => media.urlOf(variant),
    sizeBytes: (variant) => Number(variant.sizeBytes),
  },
};
