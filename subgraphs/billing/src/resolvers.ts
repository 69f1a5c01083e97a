import { tag } from '@tiergraph/runtime';
import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from './__generated__/resolvers-types';
import { jobMutations } from './jobs/jobs-resolvers';
import { withStripeErrors } from './payments/payment-service';
import { platformFiguresResolvers } from './platform-figures/platform-figures-resolvers';
import { usageMutations, usageStoreFields } from './usage/usage-resolvers';

/** Thin: every resolver hands the caller's request to its concept's service. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  ...platformFiguresResolvers,
  Query: {
    subscriptionTiers: (_root, { includeInactive }, { tiers }) => tiers.subscriptionTiers(includeInactive ?? false),
    featureCatalog: (_root, _args, { featureCatalog }) => featureCatalog.featureCatalog(),
    subscriptionStats: (_root, _args, { subscriptions }) => subscriptions.stats(),
    merchantSubscriptions: (_root, { first, after, filter }, { subscriptions }) => subscriptions.subscriptions(first ?? 50, after, filter),
    addOnProducts: (_root, _args, { payments }) => payments.addOnProducts(),
    entitlements: (_root, { merchantId, platformId }, { entitlements }) => entitlements.entitlements(merchantId, platformId),
  },
  Mutation: {
    createSubscriptionTier: (_root, { input }, { tiers }) => tiers.createTier(input),
    updateSubscriptionTier: (_root, { code, input }, { tiers }) => tiers.updateTier(code, input),
    deleteSubscriptionTier: (_root, { code }, { tiers }) => tiers.deleteTier(code),
    setTierFeatureLimits: (_root, { tierCode, limits }, { tiers }) => tiers.setTierFeatureLimits(tierCode, limits),
    setMerchantFeatureOverrides: (_root, { merchantId, platformId, overrides }, { entitlements }) =>
      entitlements.setOverrides(merchantId, platformId, overrides),
    updateMerchantSubscription: (_root, { merchantId, platformId, input }, { subscriptions }) =>
      subscriptions.updateSubscription(merchantId, platformId, input),
    registerFeatures: (_root, { owner, features }, { featureCatalog }) => featureCatalog.registerFeatures(owner, features),
    createCheckoutSession: (_root, { storeId, tierCode, billingCycle }, { payments }) => withStripeErrors(payments.checkout(storeId, tierCode, billingCycle)),
    createPortalSession: (_root, { storeId }, { payments }) => withStripeErrors(payments.portal(storeId)),
    changeSubscriptionTier: (_root, { storeId, tierCode, billingCycle }, { payments }) => withStripeErrors(payments.changeTier(storeId, tierCode, billingCycle)),
    cancelSubscription: (_root, { storeId, reason, immediately }, { payments }) => withStripeErrors(payments.cancel(storeId, reason, immediately ?? false)),
    reactivateSubscription: (_root, { storeId }, { payments }) => withStripeErrors(payments.reactivate(storeId)),
    purchaseAddOn: (_root, { storeId, addOnCode, quantity, domainName }, { payments }) =>
      withStripeErrors(payments.purchaseAddOn(storeId, addOnCode, quantity ?? 1, domainName)),
    cancelAddOn: (_root, { id }, { payments }) => withStripeErrors(payments.cancelAddOn(id)),
    ...usageMutations,
    ...jobMutations,
  },
  SubscriptionTier: {
    __resolveReference: ({ code }, { tiers }) => tiers.tier(code),
    featureLimits: (tier, _args, { tiers }) => tiers.limitsOf(tier),
  },
  MerchantSubscription: {
    // response tags (response-tags.ts): a subscription's fields depend on its row, its tier and what is counted for it
    __resolveReference: (reference, { subscriptions }) => subscriptions.referencedSubscription(reference),
    tier: (subscription, _args, { tiers, tags }, info) => (tags.depends(info, tag.tiers), tiers.tierOf(subscription)),
    currentPeriodStart: (subscription, _args, { subscriptions }) => subscriptions.periodOf(subscription).start,
    currentPeriodEnd: (subscription, _args, { subscriptions }) => subscriptions.periodOf(subscription).end,
    history: (subscription, _args, { subscriptions, tags }, info) => (tags.depends(info, tag.merchantPlatform(subscription)), subscriptions.history(subscription)),
    features: (subscription, _args, { entitlements, subscriptions, tags }, info) => {
      // limits (tier, overrides), the feature catalog, metered usage in the period (ends with it)
      tags.depends(info, tag.merchantPlatform(subscription), tag.tiers, tag.features);
      tags.validUntil(subscriptions.periodOf(subscription).end);
      return entitlements.features(subscription);
    },
  },
  Merchant: {
    subscription: async (merchant, { platformId }, { subscriptions, tags }, info) => {
      const subscription = await subscriptions.subscriptionOfMerchant(merchant.id, platformId);
      // none yet: the pair's tag still names it (a subscription created later changes it)
      tags.depends(info, tag.merchantPlatform(subscription ?? { merchantId: merchant.id, platformId }));
      if (subscription) tags.validUntil(subscriptions.periodOf(subscription).end);
      if (subscription?.trialEndsAt) tags.validUntil(subscription.trialEndsAt);
      return subscription;
    },
  },
  Store: {
    subscription: (store, _args, { subscriptions }) => subscriptions.subscriptionOfStore(store),
    hasFeature: (store, { code }, { entitlements }) => entitlements.hasFeature(store, code),
    usage: (store, _args, { entitlements }) => entitlements.usageOfStore(store),
    invoices: (store, { first, after }, { payments }) => payments.invoicesOf(store, first ?? 10, after),
    addOns: (store, _args, { payments }) => payments.addOnsOf(store),
    upcomingInvoice: (store, _args, { payments }) => withStripeErrors(payments.upcomingInvoice(store)),
    ...usageStoreFields,
  },
  StoreAddOn: {
    addOn: (addOn, _args, { payments }) => payments.addOnProductOf(addOn),
  },
};
