import {
  AppError,
  assertCanReadStore,
  BadUserInputError,
  canManageStore,
  canReadStore,
  ErrorCode,
  ForbiddenError,
  isUuid,
  NotFoundError,
  verifiedStore,
  type Caller,
  type MerchantPlatform,
  type StoreDirectory,
} from '@tiergraph/runtime';
import { isActiveStatus } from '@tiergraph/plans';
import StripeSdk from 'stripe';
import type Stripe from 'stripe';
import type { TenancyClient } from '../clients/tenancy-client';
import type {
  AddOnProductEntity,
  BillingCycle,
  BillingHistoryEntity,
  MerchantSubscriptionEntity,
  StoreAddOnEntity,
  SubscriptionTierEntity,
} from '../database/entities';
import type { StoreParent } from '../references';
import { historyEntry, tierChangeOf, type HistoryChange } from '../subscriptions/subscription-rules';
import type { SubscriptionLoaders, SubscriptionStore } from '../subscriptions/subscription-store';
import type { HistoryAuthor } from '../subscriptions/subscription-writer';
import type { TierService } from '../tiers/tier-service';
import type { PaymentLoaders, PaymentStore } from './payment-store';
import type { StripeSettings } from './stripe-settings';

/** The reference's billing exceptions, with the contract's codes. */
export class PaymentSystemNotConfiguredError extends AppError {
  constructor() {
    super('payments are not configured (STRIPE_SECRET_KEY is not set)', ErrorCode.PAYMENT_SYSTEM_NOT_CONFIGURED);
  }
}
export class StripePriceNotConfiguredError extends AppError {
  constructor(what: string, cycle?: BillingCycle) {
    super(`${what} has no Stripe price${cycle ? ` for ${cycle.toLowerCase()} billing` : ''}`, 'STRIPE_PRICE_NOT_CONFIGURED');
  }
}
export class NoActiveSubscriptionError extends AppError {
  constructor() {
    super('this merchant has no Stripe subscription on this platform', 'NO_ACTIVE_SUBSCRIPTION');
  }
}
export class TierNotAvailableError extends AppError {
  constructor(code: string) {
    super(`subscription tier ${code} is not available`, 'TIER_NOT_FOUND', { tierCode: code });
  }
}
export class SubscriptionNotCancelledError extends AppError {
  constructor() {
    super('the subscription has no pending cancellation to undo', 'SUBSCRIPTION_NOT_CANCELLED');
  }
}

/**
 * Stripe's refusals reach the client with what Stripe said (PAYMENT_PROVIDER_ERROR); an unreachable Stripe is
 * PAYMENT_PROVIDER_UNAVAILABLE. Nothing local is written when either happens (every operation calls Stripe first);
 * a call that timed out may still have been applied by Stripe, and its webhook then brings the change.
 */
export async function withStripeErrors<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof StripeSdk.errors.StripeConnectionError || error instanceof StripeSdk.errors.StripeAPIError) {
      throw new AppError('Stripe could not be reached; nothing was changed here (if Stripe applied it, its webhook will bring it)', 'PAYMENT_PROVIDER_UNAVAILABLE');
    }
    if (error instanceof StripeSdk.errors.StripeError) {
      throw new AppError(`Stripe refused: ${error.message}`, 'PAYMENT_PROVIDER_ERROR', { stripeCode: error.code ?? null });
    }
    throw error;
  }
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export interface PaymentDependencies {
  stripe: Stripe | null;
  settings: StripeSettings;
  store: PaymentStore;
  loaders: PaymentLoaders;
  /** Subscriptions are read and written through their own store (the one writer). */
  subscriptions: SubscriptionStore;
  /** The request's batched subscription reads (a page of stores asks once, not per store). */
  subscriptionLoaders: Pick<SubscriptionLoaders, 'subscriptionOf'>;
  tiers: TierService;
  /** The merchant's name from tenancy, carried in the checkout's metadata for the subscription the webhook creates. */
  tenancy: TenancyClient;
  stores: StoreDirectory;
  clock: () => Date;
}

interface PayingStore extends MerchantPlatform {
  id: string;
}

/**
 * The Stripe-backed operations of one request, and the reads of what Stripe bills (add-ons, invoices). Stripe is the
 * source of truth for money: these ask Stripe to act, write what Stripe answered through the subscriptions' one
 * writer, and the webhooks confirm (an older event never overwrites what is stored).
 */
export class PaymentService {
  constructor(
    private readonly deps: PaymentDependencies,
    private readonly caller: Caller,
  ) {}

  private client(): Stripe {
    if (!this.deps.stripe) throw new PaymentSystemNotConfiguredError();
    return this.deps.stripe;
  }

  /**
   * The store whose merchant is billed: only the merchant itself and admins act on the merchant's subscription,
   * customer and add-ons (a store user's token does not say whether it is the owner or a team member).
   */
  private async payingStore(storeId: string): Promise<PayingStore> {
    this.client();
    const store = isUuid(storeId) ? await this.deps.stores.get(storeId.toLowerCase()) : null;
    this.assertManagesBilling(store, () => new NotFoundError('Store', storeId));
    return store;
  }

  /** Who may act on a store's billing: NOT_FOUND for what the caller may not even see, FORBIDDEN for a store user. */
  private assertManagesBilling<T extends { id: string; merchantId: string }>(store: T | null, notFound: () => NotFoundError): asserts store is T {
    if (!store || !canReadStore(this.caller, store)) throw notFound();
    if (!canManageStore(this.caller, store)) throw new ForbiddenError("only the store's merchant or an admin manages its billing");
  }

  /** A tier a merchant may buy: active and public (admins may also assign the others). */
  private async purchasableTier(code: string): Promise<SubscriptionTierEntity> {
    const tier = await this.deps.tiers.tier(code);
    if ((!tier.isActive || !tier.isPublic) && this.caller.role !== 'admin') throw new TierNotAvailableError(code);
    return tier;
  }

  private priceOf(tier: SubscriptionTierEntity, cycle: BillingCycle): string {
    const price = cycle === 'ANNUAL' ? tier.stripePriceAnnualId : tier.stripePriceMonthlyId;
    if (!price) throw new StripePriceNotConfiguredError(`tier ${tier.code}`, cycle);
    return price;
  }

  /** One Stripe customer per merchant: created once (an idempotency key makes racing creators get the same one). */
  private async customerOf(merchantId: string): Promise<string> {
    const known = await this.deps.store.stripeCustomerOf(merchantId);
    if (known) return known;
    const customer = await this.client().customers.create({ metadata: { merchantId } }, { idempotencyKey: `tiergraph-customer-${merchantId}` });
    return this.deps.store.saveStripeCustomer(merchantId, customer.id);
  }

  private async subscriptionOf(store: PayingStore): Promise<MerchantSubscriptionEntity & { stripeSubscriptionId: string }> {
    const [subscription] = await this.deps.subscriptions.subscriptionsOf([store]);
    if (!subscription?.stripeSubscriptionId || !isActiveStatus(subscription.status)) throw new NoActiveSubscriptionError();
    return subscription as MerchantSubscriptionEntity & { stripeSubscriptionId: string };
  }

  private urls() {
    const base = this.deps.settings.returnUrl;
    return {
      success: `${base}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel: `${base}?checkout=cancelled`,
      portalReturn: base,
    };
  }

  async checkout(storeId: string, tierCode: string, cycle: BillingCycle): Promise<{ sessionId: string; url: string }> {
    const store = await this.payingStore(storeId);
    const tier = await this.purchasableTier(tierCode);
    const price = this.priceOf(tier, cycle);
    const [existing] = await this.deps.subscriptions.subscriptionsOf([store]);
    if (existing?.stripeSubscriptionId && isActiveStatus(existing.status)) {
      // a second live Stripe subscription would bill the merchant twice
      throw new BadUserInputError('this merchant already pays for a subscription on this platform: change its tier instead', 'storeId');
    }
    const customer = await this.customerOf(store.merchantId);
    const firstSubscription = !(await this.deps.subscriptions.hasHadStripeSubscription(store.merchantId));
    const metadata = {
      kind: 'subscription',
      merchantId: store.merchantId,
      merchantName: (await this.deps.tenancy.merchantAndPlatform(store.merchantId, store.platformId)).name,
      platformId: store.platformId,
      storeId: store.id,
      tierCode: tier.code,
      billingCycle: cycle,
    };
    const urls = this.urls();
    const session = await this.client().checkout.sessions.create({
      mode: 'subscription',
      customer,
      line_items: [{ price, quantity: 1 }],
      success_url: urls.success,
      cancel_url: urls.cancel,
      metadata,
      subscription_data: {
        metadata,
        ...(firstSubscription && this.deps.settings.trialDays > 0 ? { trial_period_days: this.deps.settings.trialDays } : {}),
      },
    });
    return { sessionId: session.id, url: session.url ?? '' };
  }

  async portal(storeId: string): Promise<{ url: string }> {
    const store = await this.payingStore(storeId);
    const customer = await this.deps.store.stripeCustomerOf(store.merchantId);
    if (!customer) throw new NoActiveSubscriptionError();
    const session = await this.client().billingPortal.sessions.create({ customer, return_url: this.urls().portalReturn });
    return { url: session.url };
  }

  async changeTier(storeId: string, tierCode: string, cycle: BillingCycle | null | undefined): Promise<MerchantSubscriptionEntity> {
    const store = await this.payingStore(storeId);
    const subscription = await this.subscriptionOf(store);
    const tier = await this.purchasableTier(tierCode);
    const nextCycle = cycle ?? subscription.billingCycle;
    const price = this.priceOf(tier, nextCycle);
    const remote = await this.client().subscriptions.retrieve(subscription.stripeSubscriptionId);
    const item = remote.items.data[0];
    if (!item) throw new NoActiveSubscriptionError();
    await this.client().subscriptions.update(subscription.stripeSubscriptionId, {
      items: [{ id: item.id, price }],
      proration_behavior: 'create_prorations',
      metadata: { ...remote.metadata, tierCode: tier.code, billingCycle: nextCycle },
    });
    const from = await this.deps.tiers.tierById(subscription.tierId);
    const change = from ? tierChangeOf(from, tier) : 'TIER_CHANGE';
    return this.write(store, (current) => ({
      subscription: { tierId: tier.id, billingCycle: nextCycle, stripeStateAt: this.stateTime(current) },
      history: tier.id === subscription.tierId ? [] : [historyEntry(change, { fromTierCode: from?.code ?? null, toTierCode: tier.code })],
    }));
  }

  async cancel(storeId: string, reason: string | null | undefined, immediately: boolean): Promise<MerchantSubscriptionEntity> {
    const store = await this.payingStore(storeId);
    const subscription = await this.subscriptionOf(store);
    if (immediately) {
      await this.client().subscriptions.cancel(subscription.stripeSubscriptionId);
      return this.write(store, (current) => ({
        subscription: { status: 'CANCELLED', cancelAtPeriodEnd: false, cancelledAt: this.deps.clock(), stripeStateAt: this.stateTime(current) },
        history: [historyEntry('STATUS_CHANGE', { fromStatus: current?.status ?? null, toStatus: 'CANCELLED', reason: reason ?? null })],
      }));
    }
    await this.client().subscriptions.update(subscription.stripeSubscriptionId, { cancel_at_period_end: true });
    return this.write(store, (current) => ({
      subscription: { cancelAtPeriodEnd: true, stripeStateAt: this.stateTime(current) },
      history: [historyEntry('STATUS_CHANGE', { reason: reason ?? 'cancels at the end of the period' })],
    }));
  }

  async reactivate(storeId: string): Promise<MerchantSubscriptionEntity> {
    const store = await this.payingStore(storeId);
    const subscription = await this.subscriptionOf(store);
    if (!subscription.cancelAtPeriodEnd) throw new SubscriptionNotCancelledError();
    await this.client().subscriptions.update(subscription.stripeSubscriptionId, { cancel_at_period_end: false });
    return this.write(store, (current) => ({
      subscription: { cancelAtPeriodEnd: false, stripeStateAt: this.stateTime(current) },
      history: [historyEntry('STATUS_CHANGE', { reason: 'cancellation withdrawn' })],
    }));
  }

  /** The next invoice of the store's merchant, as Stripe previews it (null without Stripe or a live subscription). */
  async upcomingInvoice(parent: StoreParent) {
    const store = await verifiedStore(this.caller, parent, this.deps.stores);
    if (!this.deps.stripe) return null;
    // batched: a list of stores asking for their upcoming invoice makes one statement of each kind, not two per store
    const [subscription, customer] = await Promise.all([
      this.deps.subscriptionLoaders.subscriptionOf.load({ merchantId: store.merchantId, platformId: store.platformId }),
      this.deps.loaders.stripeCustomerOf.load(store.merchantId),
    ]);
    if (!subscription?.stripeSubscriptionId || !customer || !isActiveStatus(subscription.status)) return null;
    const preview = await this.client().invoices.createPreview({ customer, subscription: subscription.stripeSubscriptionId });
    return {
      amountDueCents: preview.amount_due,
      currency: preview.currency.toUpperCase(),
      nextPaymentAttempt: preview.next_payment_attempt ? new Date(preview.next_payment_attempt * 1000) : null,
      lines: preview.lines.data.map((line) => ({ description: line.description, amountCents: line.amount })),
    };
  }

  async purchaseAddOn(storeId: string, addOnCode: string, quantity: number, domainName: string | null | undefined) {
    const store = await this.payingStore(storeId);
    const [product] = await this.deps.store.addOnProductsByCodes([addOnCode]);
    if (!product || !product.isActive) throw new BadUserInputError(`unknown add-on ${addOnCode}`, 'addOnCode');
    if (!Number.isInteger(quantity) || quantity < 1) throw new BadUserInputError('quantity must be at least 1', 'quantity');
    const domain = domainName?.trim().toLowerCase() || null;
    if (product.category === 'domain' && (!domain || !DOMAIN.test(domain))) {
      throw new BadUserInputError('a domain add-on needs a valid domain name such as shop.example.com', 'domainName');
    }
    if (product.category !== 'domain' && domain) throw new BadUserInputError(`${addOnCode} takes no domain name`, 'domainName');
    if (!product.stripePriceId) throw new StripePriceNotConfiguredError(`add-on ${addOnCode}`);
    const customer = await this.customerOf(store.merchantId);
    const metadata = {
      kind: 'addon',
      merchantId: store.merchantId,
      platformId: store.platformId,
      storeId: store.id,
      addOnCode,
      quantity: String(quantity),
      ...(domain ? { domainName: domain } : {}),
    };
    const urls = this.urls();
    const session = await this.client().checkout.sessions.create({
      mode: 'subscription',
      customer,
      line_items: [{ price: product.stripePriceId, quantity }],
      success_url: urls.success,
      cancel_url: urls.cancel,
      metadata,
      subscription_data: { metadata },
    });
    return { sessionId: session.id, url: session.url ?? '' };
  }

  async cancelAddOn(id: string): Promise<StoreAddOnEntity> {
    this.client();
    const [addOn] = isUuid(id) ? await this.deps.store.storeAddOnsByIds([id.toLowerCase()]) : [null];
    if (!addOn) throw new NotFoundError('StoreAddOn', id);
    this.assertManagesBilling({ id: addOn.storeId, merchantId: addOn.merchantId }, () => new NotFoundError('StoreAddOn', id));
    if (addOn.status === 'cancelled') return addOn;
    // the add-on is billed by its own Stripe subscription: cancelling only here would keep charging
    const stripeSubscription =
      addOn.stripeSubscriptionId ??
      (addOn.stripeSubscriptionItemId ? (await this.client().subscriptionItems.retrieve(addOn.stripeSubscriptionItemId)).subscription : null);
    if (!stripeSubscription) throw new NoActiveSubscriptionError();
    await this.client().subscriptions.cancel(stripeSubscription);
    return this.deps.store.cancelStoreAddOn(addOn.id);
  }

  /**
   * What we just asked Stripe to do is the newest state: webhooks from before it must not undo it. The mark never
   * moves backwards (an event may carry a later time than our clock).
   */
  private stateTime(current: MerchantSubscriptionEntity | null): Date {
    // Stripe's event times are whole seconds: the event confirming this change (created at or after it) is not stale
    const now = new Date(Math.floor(this.deps.clock().getTime() / 1000) * 1000);
    return current?.stripeStateAt && current.stripeStateAt > now ? current.stripeStateAt : now;
  }

  /** A change through the subscriptions' one writer, by the caller, at the clock's time. */
  private write(
    store: PayingStore,
    change: (current: MerchantSubscriptionEntity | null) => { subscription: Partial<MerchantSubscriptionEntity>; history: HistoryChange[] },
  ): Promise<MerchantSubscriptionEntity> {
    const author: HistoryAuthor = { actor: this.caller.userId, changedAt: this.deps.clock() };
    return this.deps.subscriptions.write(store, author, async (current) => change(current));
  }

  // ───────────── what Stripe bills: add-ons and invoices ─────────────

  addOnProducts(): Promise<AddOnProductEntity[]> {
    return this.deps.store.addOnProducts();
  }

  async addOnsOf(store: { id: string; merchantId?: string }): Promise<StoreAddOnEntity[]> {
    if (!store.merchantId) throw new BadUserInputError('the Store representation needs merchantId', 'merchantId');
    if (!isUuid(store.id) || !isUuid(store.merchantId)) throw new NotFoundError('Store', store.id);
    const key = { storeId: store.id.toLowerCase(), merchantId: store.merchantId.toLowerCase() };
    assertCanReadStore(this.caller, { id: key.storeId, merchantId: key.merchantId });
    // by store AND merchant: a representation naming the caller's merchant with another's store finds nothing
    return this.deps.loaders.addOnsOfStore.load(key);
  }

  async addOnProductOf(addOn: StoreAddOnEntity): Promise<AddOnProductEntity> {
    const product = await this.deps.loaders.addOnProductByCode.load(addOn.addOnCode);
    if (!product) throw new Error(`store add-on ${addOn.id} refers to a missing product`);
    return product;
  }

  /** A page of the merchant's invoices on the store's platform, newest first (a merchant has a few a year). */
  async invoicesOf(store: StoreParent, first: number, after?: string | null): Promise<BillingHistoryEntity[]> {
    const { merchantId, platformId } = await verifiedStore(this.caller, store, this.deps.stores);
    if (first < 1 || first > 100) throw new BadUserInputError('first must be between 1 and 100', 'first');
    const invoices = await this.deps.loaders.invoicesOf.load({ merchantId, platformId });
    const start = after ? invoices.findIndex((invoice) => invoice.id === after.toLowerCase()) + 1 : 0;
    if (after && start === 0) throw new BadUserInputError('after is not an invoice of this list', 'after');
    return invoices.slice(start, start + first);
  }

}
