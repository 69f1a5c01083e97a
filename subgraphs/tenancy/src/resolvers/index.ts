import { tag } from '@tiergraph/runtime';
import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { platformFiguresResolvers } from '../platform-figures/platform-figures-resolvers';

/** Thin: every resolver hands the caller's request to the TenancyService. */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  ...platformFiguresResolvers,
  Query: {
    platforms: (_root, _args, { tenancy }) => tenancy.platforms(),
    platform: (_root, { id }, { tenancy }) => tenancy.platform(id),
    // response tags: the merchant's own row; its stores and users below are not tagged (uncacheable)
    merchant: async (_root, { id }, { tenancy, tags }, info) => {
      const merchant = await tenancy.merchant(id);
      if (merchant) tags.depends(info, tag.merchant(merchant.id));
      return merchant;
    },
    merchantByEmail: (_root, { email }, { tenancy }) => tenancy.merchantByEmail(email),
    store: (_root, { id }, { tenancy }) => tenancy.storeById(id),
  },
  Mutation: {
    createPlatform: (_root, { input }, { tenancy }) => tenancy.createPlatform(input),
    createMerchant: (_root, { input }, { tenancy }) => tenancy.createMerchant(input),
    createStore: (_root, { input }, { tenancy }) => tenancy.createStore(input),
    setStoreActive: (_root, { id, isActive }, { tenancy }) => tenancy.setStoreActive(id, isActive),
    addStoreUser: (_root, { input }, { tenancy }) => tenancy.addStoreUser(input),
    deactivateStoreUser: (_root, { id }, { tenancy }) => tenancy.deactivateStoreUser(id),
  },
  Platform: {
    __resolveReference: ({ id }, { tenancy }) => tenancy.referencedPlatform(id),
  },
  Merchant: {
    __resolveReference: ({ id }, { tenancy }) => tenancy.referencedMerchant(id),
    stores: (merchant, _args, { tenancy, tags }) => (tags.uncacheable(), tenancy.storesOf(merchant)),
    users: (merchant, _args, { tenancy, tags }) => (tags.uncacheable(), tenancy.usersOfMerchant(merchant)),
    userStats: (merchant, _args, { tenancy, tags }) => (tags.uncacheable(), tenancy.userStatsOf(merchant)),
  },
  Store: {
    __resolveReference: ({ id }, { tenancy }) => tenancy.referencedStore(id),
    merchant: (store, _args, { tenancy }) => tenancy.merchantOf(store),
    platform: (store, _args, { tenancy }) => tenancy.platformOf(store),
    users: (store, _args, { tenancy }) => tenancy.usersOfStore(store),
    tenancyUsage: (store, _args, { tenancy }) => tenancy.usageOf(store),
  },
  MerchantSubscription: {
    __resolveReference: (reference) => reference,
    merchant: (subscription, _args, { tenancy, tags }, info) => (tags.depends(info, tag.merchant(subscription.merchantId)), tenancy.merchant(subscription.merchantId)),
    platform: (subscription, _args, { tenancy, tags }) => (tags.uncacheable(), tenancy.platform(subscription.platformId)),
    tenancyUsage: (subscription, _args, { tenancy, tags }, info) => (tags.depends(info, tag.merchantPlatform(subscription)), tenancy.usageOf(subscription)),
  },
  StoreUser: {
    store: (user, _args, { tenancy }) => tenancy.storeOf(user),
  },
};
