import { merchantPlatformKey, type MerchantPlatform } from '@tiergraph/runtime';
import type { EntityManager } from 'typeorm';
import type { MerchantSubscriptionEntity } from '../../database/entities';
import type { HistoryChange, TierRef } from '../../subscriptions/subscription-rules';
import { lockSubscription, saveSubscription } from '../../subscriptions/subscription-writer';
import type { InvoiceRecord, PaymentVerdict, SubscriptionState, TierPrices } from './mapping';

/**
 * Which kind of Stripe event a state came from. Subscription events carry Stripe's whole view of the subscription
 * and are ordered against each other; invoice events speak only to the payment and are ordered against every
 * event that set the status (see `staleOutcome` and `withNewerPayment`).
 */
export type StateMark = 'subscription' | 'payment';

export interface StoredSubscription extends SubscriptionState {
  id: string;
  merchantId: string;
  platformId: string;
  merchantName: string;
  /** `created` of the newest Stripe event applied to the row; an older event changes nothing. */
  stripeStateAt: Date | null;
  /** The newest invoice event applied (payment status)... */
  paymentStateAt: Date | null;
  /** ...and what it said. */
  paymentVerdict: PaymentVerdict | null;
}

/**
 * A stored row as the Stripe rules read it (mapping.ts's SubscriptionState): the one mapping of the subscription's
 * columns to that state, for the webhook handlers and the Stripe sync job alike.
 */
export function subscriptionStateOf(row: MerchantSubscriptionEntity, tier: TierRef): SubscriptionState {
  return {
    tier,
    status: row.status,
    billingCycle: row.billingCycle,
    periodStart: row.currentPeriodStart,
    periodEnd: row.currentPeriodEnd,
    trialEndsAt: row.trialEndsAt,
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    cancelledAt: row.cancelledAt,
    stripeCustomerId: row.stripeCustomerId,
    stripeSubscriptionId: row.stripeSubscriptionId,
    paymentAttempts: row.paymentAttempts,
  };
}

/** The columns a SubscriptionState is stored in: the mapping back (subscriptionStateOf's inverse). */
export function subscriptionColumnsOf(state: SubscriptionState): Partial<MerchantSubscriptionEntity> {
  return {
    tierId: state.tier.id,
    status: state.status,
    billingCycle: state.billingCycle,
    currentPeriodStart: state.periodStart,
    currentPeriodEnd: state.periodEnd,
    trialEndsAt: state.trialEndsAt,
    cancelAtPeriodEnd: state.cancelAtPeriodEnd,
    cancelledAt: state.cancelledAt,
    stripeCustomerId: state.stripeCustomerId,
    stripeSubscriptionId: state.stripeSubscriptionId,
    paymentAttempts: state.paymentAttempts,
  };
}

/** A locked row as the webhook rules read it: its tier with the price the tier-change rule compares. */
function storedSubscriptionOf(row: MerchantSubscriptionEntity, tier: TierRef): StoredSubscription {
  return {
    id: row.id,
    merchantId: row.merchantId,
    platformId: row.platformId,
    merchantName: row.merchantName,
    ...subscriptionStateOf(row, tier),
    stripeStateAt: row.stripeStateAt,
    paymentStateAt: row.paymentStateAt,
    paymentVerdict: row.paymentVerdict,
  };
}

const latest = (stored: Date | null, at: Date): Date => (stored && stored > at ? stored : at);

export interface StoreAddOnRecord {
  storeId: string;
  merchantId: string;
  addOnCode: string;
  quantity: number;
  domainName: string | null;
  stripeSubscriptionItemId: string | null;
  stripeSubscriptionId: string | null;
}

/**
 * The SQL of the webhook handlers, all on the event's transaction: the idempotency row, the effect and the
 * entitlement notification commit together or not at all.
 */
export class WebhookStore {
  /** The rows this transaction locked, by pair: what the writer saves on top of. */
  private readonly locked = new Map<string, MerchantSubscriptionEntity>();

  constructor(private readonly manager: EntityManager) {}

  // ───────────── idempotency ─────────────

  /**
   * Records the event; false when it was already recorded. A concurrent delivery of the same event waits on the
   * primary key until the first one commits (then this is a duplicate) or rolls back (then this one processes it).
   */
  async recordEvent(event: { id: string; type: string; time: Date }): Promise<boolean> {
    const inserted: Array<{ event_id: string }> = await this.manager.query(
      `INSERT INTO billing.stripe_webhook_events (event_id, type, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      [event.id, event.type, event.time],
    );
    return inserted.length === 1;
  }

  async setOutcome(eventId: string, outcome: string): Promise<void> {
    await this.manager.query(`UPDATE billing.stripe_webhook_events SET outcome = $2 WHERE event_id = $1`, [eventId, outcome]);
  }

  // ───────────── tiers and add-ons ─────────────

  tiers(): Promise<TierPrices[]> {
    return this.manager.query(
      `SELECT id, code, price_monthly_cents AS "priceMonthlyCents", stripe_price_monthly_id AS "stripePriceMonthlyId",
              stripe_price_annual_id AS "stripePriceAnnualId"
       FROM billing.subscription_tiers ORDER BY display_order, code`,
    );
  }

  async addOnProductExists(code: string): Promise<boolean> {
    const rows = await this.manager.query(`SELECT 1 FROM billing.add_on_products WHERE code = $1`, [code]);
    return rows.length > 0;
  }

  /** The add-on already recorded for this Stripe subscription (or item), if any. */
  async storeAddOnOfStripe(stripeSubscriptionItemId: string | null, stripeSubscriptionId: string | null): Promise<string | null> {
    if (!stripeSubscriptionItemId && !stripeSubscriptionId) return null;
    const [row]: Array<{ id: string }> = await this.manager.query(
      `SELECT id FROM billing.store_add_ons WHERE stripe_subscription_item_id = $1 OR stripe_subscription_id = $2 LIMIT 1`,
      [stripeSubscriptionItemId, stripeSubscriptionId],
    );
    return row?.id ?? null;
  }

  async insertStoreAddOn(addOn: StoreAddOnRecord): Promise<string> {
    const [row]: Array<{ id: string }> = await this.manager.query(
      `INSERT INTO billing.store_add_ons (store_id, merchant_id, add_on_code, status, quantity, domain_name,
         stripe_subscription_item_id, stripe_subscription_id)
       VALUES ($1, $2, $3, 'active', $4, $5, $6, $7) RETURNING id`,
      [addOn.storeId, addOn.merchantId, addOn.addOnCode, addOn.quantity, addOn.domainName, addOn.stripeSubscriptionItemId, addOn.stripeSubscriptionId],
    );
    return row.id;
  }

  /** Marks the add-ons billed by this Stripe subscription (or these items) cancelled; how many changed. */
  async cancelStoreAddOnsOfStripe(stripeSubscriptionId: string, stripeSubscriptionItemIds: string[]): Promise<number> {
    const rows: unknown[] = await this.manager.query(
      `WITH cancelled AS (
         UPDATE billing.store_add_ons SET status = 'cancelled'
         WHERE (stripe_subscription_id = $1 OR stripe_subscription_item_id = ANY($2)) AND status <> 'cancelled' RETURNING id)
       SELECT id FROM cancelled`,
      [stripeSubscriptionId, stripeSubscriptionItemIds],
    );
    return rows.length;
  }

  // ───────────── invoices ─────────────

  /** One billing-history row per Stripe invoice; false when the invoice was already recorded. */
  async insertInvoice(pair: MerchantPlatform, invoice: InvoiceRecord): Promise<boolean> {
    const rows = await this.manager.query(
      `INSERT INTO billing.billing_history (merchant_id, platform_id, stripe_invoice_id, number, status, amount_due_cents,
         amount_paid_cents, currency, period_start, period_end, invoice_pdf_url, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (stripe_invoice_id) DO NOTHING RETURNING id`,
      [
        pair.merchantId,
        pair.platformId,
        invoice.stripeInvoiceId,
        invoice.number,
        invoice.status,
        invoice.amountDueCents,
        invoice.amountPaidCents,
        invoice.currency,
        invoice.periodStart,
        invoice.periodEnd,
        invoice.invoicePdfUrl,
        invoice.createdAt,
      ],
    );
    return rows.length === 1;
  }

  // ───────────── subscriptions ─────────────

  /** The merchant and platform whose subscription is linked to this Stripe subscription (not locked). */
  async pairOfStripeSubscription(stripeSubscriptionId: string): Promise<MerchantPlatform | null> {
    const [row]: Array<{ merchant_id: string; platform_id: string }> = await this.manager.query(
      `SELECT merchant_id, platform_id FROM billing.merchant_subscriptions WHERE stripe_subscription_id = $1`,
      [stripeSubscriptionId],
    );
    return row ? { merchantId: row.merchant_id, platformId: row.platform_id } : null;
  }

  /**
   * The merchant's subscription on the platform, locked until the transaction ends by the subscriptions' one
   * writer (the same lock every mutation takes, so webhooks and mutations serialise).
   */
  async lockSubscription(pair: MerchantPlatform): Promise<StoredSubscription | null> {
    const row = await lockSubscription(this.manager, pair);
    if (!row) return null;
    this.locked.set(merchantPlatformKey(pair), row);
    const [tier]: TierRef[] = await this.manager.query(
      `SELECT id, code, price_monthly_cents AS "priceMonthlyCents" FROM billing.subscription_tiers WHERE id = $1`,
      [row.tierId],
    );
    return storedSubscriptionOf(row, tier);
  }

  /**
   * Writes the state a Stripe event describes (creating the subscription when there is none) through the one
   * writer: its history (actor `stripe`, at the time of this transaction, the event's id in the reason), the event's
   * time as the row's Stripe state (a mark that never moves back), and, when anything visible changed, the
   * notification that makes every entitlement cache drop the merchant (delivered when the transaction commits).
   */
  async saveSubscription(
    pair: MerchantPlatform,
    current: StoredSubscription | null,
    next: SubscriptionState,
    change: { merchantName: string; stateAt: Date; mark: StateMark; verdict: PaymentVerdict | null; history: HistoryChange[]; reason: string },
  ): Promise<void> {
    const row = current ? (this.locked.get(merchantPlatformKey(pair)) ?? null) : null;
    if (current && !row) throw new Error('saveSubscription needs the row lockSubscription locked in this transaction');
    const mark =
      change.mark === 'payment'
        ? { paymentStateAt: latest(row?.paymentStateAt ?? null, change.stateAt) }
        : { stripeStateAt: latest(row?.stripeStateAt ?? null, change.stateAt) };
    await saveSubscription(
      this.manager,
      pair,
      row,
      {
        ...(row ? {} : { merchantName: change.merchantName }),
        ...subscriptionColumnsOf(next),
        ...mark,
        paymentVerdict: change.verdict ?? row?.paymentVerdict ?? null,
      },
      change.history.map((entry) => ({ ...entry, reason: entry.reason ?? change.reason })),
      { actor: 'stripe', changedAt: null },
    );
  }
}
