import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import { formatAmount, type Interval } from './periods';

/**
 * Builders for the API objects, typed with the `stripe` SDK's own types so every field the SDK promises is present.
 * Fields for features the stand-in does not model (tax, discounts, shipping, Connect) carry their "off" value.
 */

export const API_VERSION = '2025-08-27.basil';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `cus_` + 24 random base-62 characters, the shape of Stripe's ids. */
export function newId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${id}`;
}

/** A subscription as returned here: Stripe's object plus the period on the top level (items carry it in basil). */
export type LocalSubscription = Stripe.Subscription & { current_period_start: number; current_period_end: number };

/** An event as sent to webhooks and served by /v1/events. */
export interface LocalEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: unknown; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export function listObject<T>(data: T[], url: string, hasMore = false): Stripe.ApiList<T> {
  return { object: 'list', data, has_more: hasMore, url };
}

export function newCustomer(input: {
  now: number;
  email?: string | null;
  name?: string | null;
  description?: string | null;
  phone?: string | null;
  metadata: Record<string, string>;
}): Stripe.Customer {
  return {
    id: newId('cus', 14),
    object: 'customer',
    address: null,
    balance: 0,
    created: input.now,
    currency: null,
    default_source: null,
    delinquent: false,
    description: input.description ?? null,
    discount: null,
    email: input.email ?? null,
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: input.metadata,
    name: input.name ?? null,
    next_invoice_sequence: 1,
    phone: input.phone ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export function newProduct(input: { now: number; name: string; description?: string | null; metadata: Record<string, string> }): Stripe.Product {
  return {
    id: newId('prod', 14),
    object: 'product',
    active: true,
    created: input.now,
    default_price: null,
    description: input.description ?? null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: input.metadata,
    name: input.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type: 'service',
    unit_label: null,
    updated: input.now,
    url: null,
  };
}

export function newPrice(input: {
  now: number;
  currency: string;
  unitAmount: number;
  product: string;
  recurring?: { interval: Interval; intervalCount: number; trialPeriodDays?: number | null };
  lookupKey?: string | null;
  nickname?: string | null;
  active: boolean;
  metadata: Record<string, string>;
}): Stripe.Price {
  return {
    id: newId('price'),
    object: 'price',
    active: input.active,
    billing_scheme: 'per_unit',
    created: input.now,
    currency: input.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: input.lookupKey ?? null,
    metadata: input.metadata,
    nickname: input.nickname ?? null,
    product: input.product,
    recurring: input.recurring
      ? {
          interval: input.recurring.interval,
          interval_count: input.recurring.intervalCount,
          meter: null,
          trial_period_days: input.recurring.trialPeriodDays ?? null,
          usage_type: 'licensed',
        }
      : null,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: input.recurring ? 'recurring' : 'one_time',
    unit_amount: input.unitAmount,
    unit_amount_decimal: String(input.unitAmount),
  };
}

/** The legacy `plan` every subscription item still carries, derived from its recurring price. */
export function planFromPrice(price: Stripe.Price): Stripe.Plan {
  const recurring = price.recurring!;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring.interval,
    interval_count: recurring.interval_count,
    livemode: false,
    metadata: price.metadata,
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: recurring.trial_period_days,
    usage_type: recurring.usage_type,
  };
}

export function newSubscriptionItem(input: {
  now: number;
  price: Stripe.Price;
  quantity: number;
  subscription: string;
  period: { start: number; end: number };
  metadata?: Record<string, string>;
}): Stripe.SubscriptionItem {
  return {
    id: newId('si', 14),
    object: 'subscription_item',
    billing_thresholds: null,
    created: input.now,
    current_period_end: input.period.end,
    current_period_start: input.period.start,
    discounts: [],
    metadata: input.metadata ?? {},
    plan: planFromPrice(input.price),
    price: input.price,
    quantity: input.quantity,
    subscription: input.subscription,
    tax_rates: [],
  };
}

export function newSubscription(input: {
  id: string;
  now: number;
  customer: string;
  currency: string;
  items: Stripe.SubscriptionItem[];
  period: { start: number; end: number };
  billingCycleAnchor: number;
  status: Stripe.Subscription.Status;
  trial: { start: number; end: number } | null;
  metadata: Record<string, string>;
  description?: string | null;
}): LocalSubscription {
  return {
    id: input.id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: input.billingCycleAnchor,
    billing_cycle_anchor_config: null,
    billing_mode: { type: 'classic' },
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: 'charge_automatically',
    created: input.now,
    currency: input.currency,
    current_period_end: input.period.end,
    current_period_start: input.period.start,
    customer: input.customer,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: input.description ?? null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
    items: { object: 'list', data: input.items, has_more: false, url: `/v1/subscription_items?subscription=${input.id}` },
    latest_invoice: null,
    livemode: false,
    metadata: input.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: input.now,
    status: input.status,
    test_clock: null,
    transfer_data: null,
    trial_end: input.trial?.end ?? null,
    trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
    trial_start: input.trial?.start ?? null,
  };
}

/** `1 × Pro (at $30.00 / month)`, Stripe's description of a subscription line. */
export function subscriptionLineDescription(productName: string, price: Stripe.Price, quantity: number): string {
  const recurring = price.recurring;
  const every = recurring ? ` / ${recurring.interval_count > 1 ? `every ${recurring.interval_count} ${recurring.interval}s` : recurring.interval}` : '';
  return `${quantity} × ${productName} (at ${formatAmount(price.unit_amount ?? 0, price.currency)}${every})`;
}

export interface LineInput {
  amount: number;
  currency: string;
  description: string;
  period: { start: number; end: number };
  price: Stripe.Price;
  quantity: number;
  subscription: string | null;
  subscriptionItem: string | null;
  /** The pending invoice item this line bills (prorations); null for the subscription's own period line. */
  invoiceItem: string | null;
  proration: boolean;
}

export function newInvoiceLine(input: LineInput, invoice: string | null): Stripe.InvoiceLineItem {
  const productId = typeof input.price.product === 'string' ? input.price.product : input.price.product.id;
  return {
    id: newId('il'),
    object: 'line_item',
    amount: input.amount,
    currency: input.currency,
    description: input.description,
    discount_amounts: [],
    discountable: !input.proration,
    discounts: [],
    invoice,
    livemode: false,
    metadata: {},
    parent: input.subscriptionItem
      ? {
          type: 'subscription_item_details',
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: input.invoiceItem,
            proration: input.proration,
            proration_details: { credited_items: null },
            subscription: input.subscription,
            subscription_item: input.subscriptionItem,
          },
        }
      : {
          type: 'invoice_item_details',
          subscription_item_details: null,
          invoice_item_details: {
            invoice_item: input.invoiceItem ?? '',
            proration: input.proration,
            proration_details: { credited_items: null },
            subscription: input.subscription,
          },
        },
    period: input.period,
    pretax_credit_amounts: [],
    pricing: {
      type: 'price_details',
      price_details: { price: input.price.id, product: productId },
      unit_amount_decimal: input.price.unit_amount_decimal,
    },
    quantity: input.quantity,
    subscription: input.subscription,
    taxes: [],
  };
}

export function newInvoiceItem(input: LineInput & { now: number; customer: string }): Stripe.InvoiceItem {
  const productId = typeof input.price.product === 'string' ? input.price.product : input.price.product.id;
  return {
    id: newId('ii'),
    object: 'invoiceitem',
    amount: input.amount,
    currency: input.currency,
    customer: input.customer,
    date: input.now,
    description: input.description,
    discountable: false,
    discounts: [],
    invoice: null,
    livemode: false,
    metadata: {},
    parent: input.subscription
      ? {
          type: 'subscription_details',
          subscription_details: { subscription: input.subscription, subscription_item: input.subscriptionItem ?? undefined },
        }
      : null,
    period: input.period,
    pricing: {
      price_details: { price: input.price.id, product: productId },
      type: 'price_details',
      unit_amount_decimal: input.price.unit_amount_decimal,
    },
    proration: input.proration,
    quantity: input.quantity,
    tax_rates: [],
    test_clock: null,
  };
}

/** An invoice as stored and served here: always with an id (the SDK type leaves it optional for previews). */
export type LocalInvoice = Stripe.Invoice & { id: string };

/** An invoice with its totals computed from the lines and the customer's balance (negative balance = credit). */
export function newInvoice(input: {
  id?: string;
  now: number;
  customer: Stripe.Customer;
  currency: string;
  lines: LineInput[];
  subscription: LocalSubscription | null;
  billingReason: Stripe.Invoice.BillingReason;
  period: { start: number; end: number };
  baseUrl: string;
  preview?: boolean;
  nextPaymentAttempt?: number | null;
}): LocalInvoice {
  const id = input.id ?? newId('in');
  const lines = input.lines.map((line) => newInvoiceLine(line, input.preview ? null : id));
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  const startingBalance = input.customer.balance;
  const applied = total + startingBalance;
  const amountDue = Math.max(0, applied);
  return {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Stripe Local',
    account_tax_ids: null,
    amount_due: amountDue,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: amountDue,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: !input.preview,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: 'charge_automatically',
    created: input.now,
    currency: input.currency,
    custom_fields: null,
    customer: input.customer.id,
    customer_address: null,
    customer_email: input.customer.email,
    customer_name: input.customer.name ?? null,
    customer_phone: input.customer.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: input.preview ? null : Math.min(0, applied),
    footer: null,
    from_invoice: null,
    hosted_invoice_url: input.preview ? null : `${input.baseUrl}/invoices/${id}`,
    invoice_pdf: input.preview ? null : `${input.baseUrl}/invoices/${id}/pdf`,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: listObject(lines, `/v1/invoices/${id}/lines`),
    livemode: false,
    metadata: {},
    next_payment_attempt: input.nextPaymentAttempt ?? null,
    number: null,
    on_behalf_of: null,
    parent: input.subscription
      ? {
          type: 'subscription_details',
          quote_details: null,
          subscription_details: { metadata: { ...input.subscription.metadata }, subscription: input.subscription.id },
        }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: input.period.end,
    period_start: input.period.start,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: startingBalance,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
}

export function newCheckoutSession(input: {
  id: string;
  now: number;
  mode: 'payment' | 'subscription';
  customer: string | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  currency: string;
  amountSubtotal: number;
  successUrl: string | null;
  cancelUrl: string | null;
  metadata: Record<string, string>;
  url: string;
  allowPromotionCodes: boolean | null;
}): Stripe.Checkout.Session {
  return {
    id: input.id,
    object: 'checkout.session',
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: input.allowPromotionCodes,
    amount_subtotal: input.amountSubtotal,
    amount_total: input.amountSubtotal,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: input.cancelUrl,
    client_reference_id: input.clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: input.now,
    currency: input.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: input.customer,
    customer_creation: input.customer ? null : 'always',
    customer_details: input.customerEmail
      ? { address: null, email: input.customerEmail, name: null, phone: null, tax_exempt: 'none', tax_ids: [] }
      : null,
    customer_email: input.customerEmail,
    discounts: [],
    expires_at: input.now + 24 * 3600,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    metadata: input.metadata,
    mode: input.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: 'always',
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: input.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted',
    url: input.url,
    wallet_options: null,
  };
}

export function newCheckoutLineItem(price: Stripe.Price, quantity: number, productName: string): Stripe.LineItem {
  const amount = (price.unit_amount ?? 0) * quantity;
  return {
    id: newId('li'),
    object: 'item',
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency: price.currency,
    description: productName,
    price,
    quantity,
  };
}

export function newPortalSession(input: {
  now: number;
  customer: string;
  returnUrl: string | null;
  locale: Stripe.BillingPortal.Session.Locale | null;
  baseUrl: string;
}): Stripe.BillingPortal.Session {
  const id = newId('bps');
  return {
    id,
    object: 'billing_portal.session',
    configuration: 'bpc_local_default',
    created: input.now,
    customer: input.customer,
    flow: null,
    livemode: false,
    locale: input.locale,
    on_behalf_of: null,
    return_url: input.returnUrl,
    url: `${input.baseUrl}/billing_portal/${id}`,
  };
}
