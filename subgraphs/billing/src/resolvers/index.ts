import type { Resolvers } from '../__generated__/resolvers-types';

/**
 * Thin: every resolver hands the caller's request to the BillingService.
 * (No DateTime yet: the schema exposes no timestamp, and a resolver for a type the schema lacks is refused.)
 */
export const resolvers: Resolvers = {
  SubscriptionTier: {
    __resolveReference: ({ code }, { billing }) => billing.referencedTier(code),
  },
};
