import type Stripe from 'stripe';
import { invalidParameter, resourceMissing } from './errors';
import { listObject, type LocalEvent, type LocalSubscription } from './objects';
import type { Params } from './params';

/** What a checkout session asked for its subscription, kept until the session completes. */
export interface CheckoutSubscriptionData {
  trialPeriodDays: number | null;
  trialEnd: number | null;
  metadata: Record<string, string>;
  description: string | null;
}

/** One attempt to deliver an event to the webhook URL. */
export interface WebhookDelivery {
  eventId: string;
  type: string;
  url: string;
  /** HTTP status of the answer; null when the request itself failed. */
  status: number | null;
  ok: boolean;
  error?: string;
  responseBody?: string;
}

/**
 * Everything the stand-in knows, in insertion order (Maps keep it), so lists answer newest first like Stripe.
 * Tests may read it; the objects are the ones the API serves.
 */
export class StripeLocalStore {
  readonly customers = new Map<string, Stripe.Customer>();
  readonly products = new Map<string, Stripe.Product>();
  readonly prices = new Map<string, Stripe.Price>();
  readonly checkoutSessions = new Map<string, Stripe.Checkout.Session>();
  readonly checkoutLineItems = new Map<string, Stripe.LineItem[]>();
  readonly checkoutSubscriptionData = new Map<string, CheckoutSubscriptionData>();
  readonly portalSessions = new Map<string, Stripe.BillingPortal.Session>();
  readonly subscriptions = new Map<string, LocalSubscription>();
  readonly invoices = new Map<string, Stripe.Invoice>();
  /** Invoice items, pending (invoice: null) or billed; prorations land here until the next invoice. */
  readonly invoiceItems = new Map<string, Stripe.InvoiceItem>();
  readonly events = new Map<string, LocalEvent>();
  readonly deliveries: WebhookDelivery[] = [];
  /** Customers whose next charge fails (see `failNextPayment`). */
  readonly failingCustomers = new Set<string>();

  customer(id: string, param = 'id'): Stripe.Customer {
    const customer = this.customers.get(id);
    if (!customer) throw resourceMissing('customer', id, param);
    return customer;
  }

  price(id: string, param = 'id'): Stripe.Price {
    const price = this.prices.get(id);
    if (!price) throw resourceMissing('price', id, param);
    return price;
  }

  product(id: string, param = 'id'): Stripe.Product {
    const product = this.products.get(id);
    if (!product) throw resourceMissing('product', id, param);
    return product;
  }

  /** A subscription item by its id, wherever it is (subscription items are not stored on their own). */
  subscriptionItem(id: string, param = 'id'): Stripe.SubscriptionItem {
    for (const subscription of this.subscriptions.values()) {
      const item = subscription.items.data.find((candidate) => candidate.id === id);
      if (item) return item;
    }
    throw resourceMissing('subscription_item', id, param);
  }

  subscription(id: string, param = 'id'): LocalSubscription {
    const subscription = this.subscriptions.get(id);
    if (!subscription) throw resourceMissing('subscription', id, param);
    return subscription;
  }

  invoice(id: string, param = 'id'): Stripe.Invoice {
    const invoice = this.invoices.get(id);
    if (!invoice) throw resourceMissing('invoice', id, param);
    return invoice;
  }

  checkoutSession(id: string, param = 'id'): Stripe.Checkout.Session {
    const session = this.checkoutSessions.get(id);
    if (!session) throw resourceMissing('checkout.session', id, param);
    return session;
  }

  productName(price: Stripe.Price): string {
    const productId = typeof price.product === 'string' ? price.product : price.product.id;
    return this.products.get(productId)?.name ?? productId;
  }

  /** Any stored object by its id prefix, for `expand[]`. */
  lookup(id: string): unknown {
    const [prefix] = id.split('_', 1);
    switch (prefix) {
      case 'cus':
        return this.customers.get(id);
      case 'prod':
        return this.products.get(id);
      case 'price':
        return this.prices.get(id);
      case 'sub':
        return this.subscriptions.get(id);
      case 'in':
        return this.invoices.get(id);
      case 'ii':
        return this.invoiceItems.get(id);
      case 'cs':
        return this.checkoutSessions.get(id);
      case 'evt':
        return this.events.get(id);
      default:
        return undefined;
    }
  }
}

/**
 * Stripe's cursor pagination over `items` (oldest first as stored): newest first, `limit` (1–100, default 10),
 * `starting_after` / `ending_before` object ids, `has_more`.
 */
export function paginate<T extends { id?: string }>(items: Iterable<T>, params: Params, url: string, kind: string): Stripe.ApiList<T> {
  const newestFirst = [...items].reverse();
  const limit = params.integer('limit', { min: 1, max: 100 }) ?? 10;
  const startingAfter = params.string('starting_after');
  const endingBefore = params.string('ending_before');
  if (startingAfter && endingBefore) {
    throw invalidParameter('ending_before', 'You may only specify one of these parameters: starting_after, ending_before.');
  }
  if (startingAfter) {
    const index = newestFirst.findIndex((item) => item.id === startingAfter);
    if (index === -1) throw resourceMissing(kind, startingAfter, 'starting_after');
    const rest = newestFirst.slice(index + 1);
    return listObject(rest.slice(0, limit), url, rest.length > limit);
  }
  if (endingBefore) {
    const index = newestFirst.findIndex((item) => item.id === endingBefore);
    if (index === -1) throw resourceMissing(kind, endingBefore, 'ending_before');
    const before = newestFirst.slice(0, index);
    return listObject(before.slice(Math.max(0, before.length - limit)), url, before.length > limit);
  }
  return listObject(newestFirst.slice(0, limit), url, newestFirst.length > limit);
}
