import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { platformFiguresResolvers } from '../platform-figures/platform-figures-resolvers';
import { jobMutations } from '../jobs/jobs-resolvers';
import { withStripeErrors } from '../stripe/payment-service';
import { usageMutations, usageStoreFields } from '../usage/usage-resolvers';

/** Thin: every resolver hands the caller's request to the BillingService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  ...platformFiguresResolvers,
  Query: {
    subscriptionTiers: (_root, { includeInactive }, { billing }) => billing.subscriptionTiers(includeInactive ?? false),
    featureCatalog: (_root, _args, { billing }) => billing.featureCatalog(),
    subscriptionStats: (_root, _args, { billing }) => billing.stats(),
    merchantSubscriptions: (_root, { first, after, filter }, { billing }) => billing.subscriptions(first ?? 50, after, filter),
    addOnProducts: (_root, _args, { billing }) => billing.addOnProducts(),
    entitlements: (_root, { merchantId, platformId }, { billing }) => billing.entitlements(merchantId, platformId),
  },
  Mutation: {
    createSubscriptionTier: (_root, { input }, { billing }) => billing.createTier(input),
    updateSubscriptionTier: (_root, { code, input }, { billing }) => billing.updateTier(code, input),
    deleteSubscriptionTier: (_root, { code }, { billing }) => billing.deleteTier(code),
    setTierFeatureLimits: (_root, { tierCode, limits }, { billing }) => billing.setTierFeatureLimits(tierCode, limits),
    setMerchantFeatureOverrides: (_root, { merchantId, platformId, overrides }, { billing }) => billing.setOverrides(merchantId, platformId, overrides),
    updateMerchantSubscription: (_root, { merchantId, platformId, input }, { billing }) => billing.updateSubscription(merchantId, platformId, input),
    registerFeatures: (_root, { owner, features }, { billing }) => billing.registerFeatures(owner, features),
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
    __resolveReference: ({ code }, { billing }) => billing.tier(code),
    featureLimits: (tier, _args, { billing }) => billing.limitsOf(tier),
  },
  MerchantSubscription: {
    __resolveReference: (reference, { billing }) => billing.referencedSubscription(reference),
    tier: (subscription, _args, { billing }) => billing.tierOf(subscription),
    currentPeriodStart: (subscription, _args, { billing }) => billing.periodOf(subscription).start,
    currentPeriodEnd: (subscription, _args, { billing }) => billing.periodOf(subscription).end,
    history: (subscription, _args, { billing }) => billing.history(subscription),
    features: (subscription, _args, { billing }) => billing.features(subscription),
  },
  Merchant: {
    subscription: (merchant, { platformId }, { billing }) => billing.subscriptionOfMerchant(merchant.id, platformId),
  },
  Store: {
    subscription: (store, _args, { billing }) => billing.subscriptionOfStore(store),
    hasFeature: (store, { code }, { billing }) => billing.hasFeature(store, code),
    usage: (store, _args, { billing }) => billing.usageOfStore(store),
    invoices: (store, { first, after }, { billing }) => billing.invoicesOf(store, first ?? 10, after),
    addOns: (store, _args, { billing }) => billing.addOnsOf(store),
    upcomingInvoice: async (store, _args, { billing, payments }) => withStripeErrors(payments.upcomingInvoice(await billing.verifiedStore(store))),
    ...usageStoreFields,
  },
  StoreAddOn: {
    addOn: (addOn, _args, { billing }) => billing.addOnProductOf(addOn),
  },
};
