import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: metered usage's fields hand the request to the UsageService. */
export const usageMutations: Resolvers['Mutation'] = {
  recordUsage: (_root, { input }, { usage }) => usage.recordOne(input),
  recordUsageBatch: (_root, { events }, { usage }) => usage.recordBatch(events),
};

export const usageStoreFields: Resolvers['Store'] = {
  usageInsights: (store, { featureCode }, { usage }) => usage.insights(store, featureCode),
  usageHistory: (store, { featureCode, last }, { usage }) => usage.history(store, featureCode, last ?? 12),
};
