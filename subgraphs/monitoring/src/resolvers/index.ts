import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: every resolver hands the caller's request to the MonitoringService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  Query: {
    platformMetrics: (_root, _args, { monitoring }) => monitoring.platformMetrics(),
    platformHealth: (_root, _args, { monitoring }) => monitoring.platformHealth(),
    subscriptionCapacity: (_root, _args, { monitoring }) => monitoring.subscriptionCapacity(),
    growthTrends: (_root, { days }, { monitoring }) => monitoring.growthTrends(days),
    scalingRecommendations: (_root, _args, { monitoring }) => monitoring.scalingRecommendations(),
    daysUntilThreshold: (_root, { metric, threshold }, { monitoring }) => monitoring.daysUntilThreshold(metric, threshold),
  },
  Mutation: {
    captureCapacitySnapshot: (_root, _args, { monitoring }) => monitoring.captureSnapshot(),
    importCapacitySnapshots: (_root, { snapshots }, { monitoring }) => monitoring.importSnapshots(snapshots),
  },
  PlatformMetrics: {
    __resolveReference: ({ id }, { monitoring }) => monitoring.referencedPlatformMetrics(id),
  },
  CapacitySnapshot: {
    __resolveReference: ({ id }, { monitoring }) => monitoring.referencedCapacitySnapshot(id),
    storageUsedGb: (snapshot) => Number(snapshot.storageUsedGb),
    dbSizeMb: (snapshot) => Number(snapshot.dbSizeMb),
  },
};
