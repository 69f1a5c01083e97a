import { notifyEntitlementsChanged, type SubscriptionStatus } from '@tiergraph/runtime';
import type { EntityManager } from 'typeorm';
import { pairKey } from '../store/billing-store';
import type { BillingCycle } from '../store/entities';
import type { HistoryChange, InvoiceRecord, MerchantPlatform, PaymentVerdict, SubscriptionState, TierPrices } from './mapping';

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

interface SubscriptionRow {
  id: string;
  merchant_id: string;
  platform_id: string;
  merchant_name: string;
  tier_id: string;
  tier_code: string;
  tier_price_monthly_cents: number;
  status: SubscriptionStatus;
  billing_cycle: BillingCycle;
  current_period_start: Date;
  current_period_end: Date;
  trial_ends_at: Date | null;
  cancel_at_period_end: boolean;
  cancelled_at: Date | null;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  stripe_state_at: Date | null;
  payment_state_at: Date | null;
  payment_verdict: PaymentVerdict | null;
  payment_attempts: number;
}

const storedSubscriptionOf = (row: SubscriptionRow): StoredSubscription => ({
  id: row.id,
  merchantId: row.merchant_id,
  platformId: row.platform_id,
  merchantName: row.merchant_name,
  tier: { id: row.tier_id, code: row.tier_code, priceMonthlyCents: row.tier_price_monthly_cents },
  status: row.status,
  billingCycle: row.billing_cycle,
  periodStart: row.current_period_start,
  periodEnd: row.current_period_end,
  trialEndsAt: row.trial_ends_at,
  cancelAtPeriodEnd: row.cancel_at_period_end,
  cancelledAt: row.cancelled_at,
  stripeCustomerId: row.stripe_customer_id,
  stripeSubscriptionId: row.stripe_subscription_id,
  stripeStateAt: row.stripe_state_at,
  paymentStateAt: row.payment_state_at,
  paymentVerdict: row.payment_verdict,
  paymentAttempts: row.payment_attempts,
});

const sameTime = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

/** Whether two states differ in anything the entitlement caches or readers see. */
function differs(before: SubscriptionState, after: SubscriptionState): boolean {
  return (
    before.tier.id !== after.tier.id ||
    before.status !== after.status ||
    before.billingCycle !== after.billingCycle ||
    !sameTime(before.periodStart, after.periodStart) ||
    !sameTime(before.periodEnd, after.periodEnd) ||
    !sameTime(before.trialEndsAt, after.trialEndsAt) ||
    before.cancelAtPeriodEnd !== after.cancelAtPeriodEnd ||
    !sameTime(before.cancelledAt, after.cancelledAt) ||
    before.stripeCustomerId !== after.stripeCustomerId ||
    before.stripeSubscriptionId !== after.stripeSubscriptionId ||
    before.paymentAttempts !== after.paymentAttempts
  );
}

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
   * The merchant's subscription on the platform, locked until the transaction ends: the same per-pair advisory
   * lock the billing store's writes take (so webhooks and mutations serialise), then the row itself.
   */
  async lockSubscription(pair: MerchantPlatform): Promise<StoredSubscription | null> {
    await this.manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`billing:subscription:${pairKey(pair)}`]);
    const [row]: SubscriptionRow[] = await this.manager.query(
      `SELECT s.id, s.merchant_id, s.platform_id, s.merchant_name, s.tier_id, t.code AS tier_code,
              t.price_monthly_cents AS tier_price_monthly_cents, s.status, s.billing_cycle, s.current_period_start,
              s.current_period_end, s.trial_ends_at, s.cancel_at_period_end, s.cancelled_at, s.stripe_customer_id,
              s.stripe_subscription_id, s.stripe_state_at, s.payment_state_at, s.payment_verdict, s.payment_attempts
       FROM billing.merchant_subscriptions s JOIN billing.subscription_tiers t ON t.id = s.tier_id
       WHERE s.merchant_id = $1 AND s.platform_id = $2
       FOR UPDATE OF s`,
      [pair.merchantId, pair.platformId],
    );
    return row ? storedSubscriptionOf(row) : null;
  }

  /**
   * Writes the state a Stripe event describes (creating the subscription when there is none), its history
   * (actor `stripe`, at the time of this transaction as every writer's history, the event's id in the reason), the
   * event's time as the row's Stripe state, and, when anything changed, the notification
   * that makes every entitlement cache drop the merchant (delivered when the transaction commits).
   */
  async saveSubscription(
    pair: MerchantPlatform,
    current: StoredSubscription | null,
    next: SubscriptionState,
    change: { merchantName: string; stateAt: Date; mark: StateMark; verdict: PaymentVerdict | null; history: HistoryChange[]; reason: string },
  ): Promise<void> {
    const values = [
      next.tier.id,
      next.status,
      next.billingCycle,
      next.periodStart,
      next.periodEnd,
      next.trialEndsAt,
      next.cancelAtPeriodEnd,
      next.cancelledAt,
      next.stripeCustomerId,
      next.stripeSubscriptionId,
      next.paymentAttempts,
      change.stateAt,
      change.verdict,
    ];
    let subscriptionId: string;
    if (current) {
      await this.manager.query(
        `UPDATE billing.merchant_subscriptions
         SET tier_id = $2, status = $3, billing_cycle = $4, current_period_start = $5, current_period_end = $6,
             trial_ends_at = $7, cancel_at_period_end = $8, cancelled_at = $9, stripe_customer_id = $10,
             stripe_subscription_id = $11, payment_attempts = $12,
             ${change.mark === 'payment' ? 'payment_state_at = GREATEST(payment_state_at, $13)' : 'stripe_state_at = GREATEST(stripe_state_at, $13)'},
             payment_verdict = COALESCE($14, payment_verdict),
             updated_at = now()
         WHERE id = $1`,
        [current.id, ...values],
      );
      subscriptionId = current.id;
    } else {
      const [row]: Array<{ id: string }> = await this.manager.query(
        `INSERT INTO billing.merchant_subscriptions (merchant_id, platform_id, merchant_name, tier_id, status, billing_cycle,
           current_period_start, current_period_end, trial_ends_at, cancel_at_period_end, cancelled_at, stripe_customer_id,
           stripe_subscription_id, payment_attempts, ${change.mark === 'payment' ? 'payment_state_at' : 'stripe_state_at'}, payment_verdict)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
        [pair.merchantId, pair.platformId, change.merchantName, ...values],
      );
      subscriptionId = row.id;
    }
    for (const entry of change.history) {
      await this.manager.query(
        `INSERT INTO billing.subscription_history (subscription_id, change, from_tier_code, to_tier_code, from_status, to_status,
           reason, actor, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'stripe', now())`,
        [subscriptionId, entry.change, entry.fromTierCode, entry.toTierCode, entry.fromStatus, entry.toStatus, entry.reason ?? change.reason],
      );
    }
    if (!current || differs(current, next)) await notifyEntitlementsChanged(this.manager, pair);
  }
}
