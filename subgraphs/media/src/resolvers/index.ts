import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: every resolver hands the caller's request to the MediaService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  MediaFile: {
    __resolveReference: ({ id }, { media }) => media.referencedMediaFile(id),
    // bigint arrives from pg as a string
    sizeBytes: (file) => Number(file.sizeBytes),
    store: (file) => ({ id: file.storeId }),
  },
};
