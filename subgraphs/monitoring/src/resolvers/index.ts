import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: every resolver hands the caller's request to the MonitoringService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  CapacitySnapshot: {
    __resolveReference: ({ id }, { monitoring }) => monitoring.referencedCapacitySnapshot(id),
  },
};
