import type Stripe from 'stripe';
import { invalidParameter, invalidRequest, noUpcomingInvoice } from './errors';
import {
  newId,
  newInvoice,
  newInvoiceItem,
  newSubscription,
  newSubscriptionItem,
  planFromPrice,
  subscriptionLineDescription,
  type LineInput,
  type LocalInvoice,
  type LocalSubscription,
} from './objects';
import { addIntervals, DAY, formatDay, prorate, type Interval } from './periods';
import type { StripeLocalStore } from './store';

/** Something that happened which Stripe would announce with an event. */
export interface Happening {
  type: string;
  object: unknown;
  previousAttributes?: Record<string, unknown>;
  /** When it happened (unix seconds); defaults to now. */
  at?: number;
}

export interface ItemSpec {
  price: Stripe.Price;
  quantity: number;
  metadata?: Record<string, string>;
}

/** One entry of `items[]` on a subscription update or preview. */
export interface ItemChange {
  id?: string;
  price?: string;
  quantity?: number;
  deleted?: boolean;
  metadata?: Record<string, string>;
}

export type ProrationBehavior = 'create_prorations' | 'always_invoice' | 'none';

export interface SubscriptionChange {
  items?: ItemChange[];
  prorationBehavior?: ProrationBehavior;
  prorationDate?: number;
  cancelAtPeriodEnd?: boolean;
  cancelAt?: number | null;
  metadata?: Record<string, string>;
  trialEnd?: 'now' | number;
  description?: string | null;
}

interface PlannedItem {
  existing: Stripe.SubscriptionItem | null;
  price: Stripe.Price;
  quantity: number;
  metadata?: Record<string, string>;
}

const TRIAL_WILL_END_NOTICE = 3 * DAY;

/** JSON snapshot of an object, as an event or a stored response carries it. */
export function snapshot<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function recurringOf(price: Stripe.Price, param: string): Stripe.Price.Recurring {
  if (!price.recurring) {
    throw invalidParameter(param, `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`);
  }
  return price.recurring;
}

/** The subscription-level behaviour Stripe acts out: creating, changing, invoicing, renewing and cancelling. */
export class BillingEngine {
  /** Subscriptions already sent `customer.subscription.trial_will_end` for their current trial end. */
  private readonly trialNoticesSent = new Map<string, number>();

  constructor(
    private readonly store: StripeLocalStore,
    private readonly now: () => number,
    private readonly baseUrl: () => string,
  ) {}

  // ---------------------------------------------------------------- creation

  createSubscription(input: {
    customer: Stripe.Customer;
    items: ItemSpec[];
    trialPeriodDays?: number | null;
    trialEnd?: number | null;
    metadata: Record<string, string>;
    description?: string | null;
    itemsParam?: string;
    /** Checkout collected a working payment method: the first charge succeeds whatever `failNextPayment` said. */
    paymentSucceeds?: boolean;
  }): { subscription: LocalSubscription; invoice: LocalInvoice | null; happenings: Happening[] } {
    const t = this.now();
    const itemsParam = input.itemsParam ?? 'items';
    if (input.items.length === 0) throw invalidParameter(itemsParam, 'A subscription needs at least one item.', 'parameter_missing');
    const { interval, intervalCount, currency } = this.checkCompatible(input.items.map((item) => item.price), itemsParam);

    const trialEnd = input.trialEnd ?? (input.trialPeriodDays ? t + input.trialPeriodDays * DAY : null);
    if (trialEnd !== null && trialEnd <= t) throw invalidParameter('trial_end', 'Invalid timestamp: must be in the future.');
    const trial = trialEnd !== null ? { start: t, end: trialEnd } : null;
    const period = trial ?? { start: t, end: addIntervals(t, interval, intervalCount) };

    const id = newId('sub');
    const items = input.items.map((item) =>
      newSubscriptionItem({ now: t, price: item.price, quantity: item.quantity, subscription: id, period, metadata: item.metadata }),
    );
    const subscription = newSubscription({
      id,
      now: t,
      customer: input.customer.id,
      currency,
      items,
      period,
      billingCycleAnchor: trial ? trial.end : t,
      status: trial ? 'trialing' : 'active',
      trial,
      metadata: input.metadata,
      description: input.description,
    });
    this.store.subscriptions.set(id, subscription);
    const happenings: Happening[] = [{ type: 'customer.subscription.created', object: subscription }];

    let invoice: LocalInvoice | null = null;
    if (!trial) {
      invoice = this.invoiceNow(subscription, this.periodLines(subscription, period), 'subscription_create', period, t, input.paymentSucceeds);
      subscription.latest_invoice = invoice.id;
      if (invoice.status !== 'paid') subscription.status = 'incomplete';
      happenings.push(...this.invoiceHappenings(invoice));
    }
    // created carries the state after the first payment, as Stripe's event does
    happenings[0].object = subscription;
    return { subscription, invoice, happenings };
  }

  // ---------------------------------------------------------------- invoices

  /** One line per item for the period (the subscription's own charge). */
  periodLines(subscription: LocalSubscription, period: { start: number; end: number }, items = this.plannedFromSubscription(subscription)): LineInput[] {
    return items.map((item) => ({
      amount: (item.price.unit_amount ?? 0) * item.quantity,
      currency: item.price.currency,
      description: subscriptionLineDescription(this.store.productName(item.price), item.price, item.quantity),
      period,
      price: item.price,
      quantity: item.quantity,
      subscription: subscription.id,
      subscriptionItem: item.existing?.id ?? null,
      invoiceItem: null,
      proration: false,
    }));
  }

  /** Pending invoice items of a subscription as invoice lines (prorations waiting for the next invoice). */
  pendingLines(subscriptionId: string): { lines: LineInput[]; items: Stripe.InvoiceItem[] } {
    const items = [...this.store.invoiceItems.values()].filter(
      (item) => item.invoice === null && item.parent?.subscription_details?.subscription === subscriptionId,
    );
    const lines = items.map((item) => this.lineFromInvoiceItem(item));
    return { lines, items };
  }

  private lineFromInvoiceItem(item: Stripe.InvoiceItem): LineInput {
    const priceId = item.pricing?.price_details?.price ?? '';
    const price = this.store.prices.get(priceId)!;
    return {
      amount: item.amount,
      currency: item.currency,
      description: item.description ?? '',
      period: item.period,
      price,
      quantity: item.quantity,
      subscription: item.parent?.subscription_details?.subscription ?? null,
      subscriptionItem: item.parent?.subscription_details?.subscription_item ?? null,
      invoiceItem: item.id,
      proration: item.proration,
    };
  }

  /** Creates, finalizes and tries to pay an invoice for the subscription, including its pending invoice items. */
  invoiceNow(
    subscription: LocalSubscription,
    lines: LineInput[],
    billingReason: Stripe.Invoice.BillingReason,
    period: { start: number; end: number },
    at = this.now(),
    paymentSucceeds = false,
  ): LocalInvoice {
    const customer = this.store.customer(subscription.customer as string);
    const pending = this.pendingLines(subscription.id);
    const invoice = newInvoice({
      now: at,
      customer,
      currency: subscription.currency,
      lines: [...pending.lines, ...lines],
      subscription,
      billingReason,
      period,
      baseUrl: this.baseUrl(),
    });
    for (const item of pending.items) item.invoice = invoice.id;
    invoice.number = `${customer.invoice_prefix}-${String(customer.next_invoice_sequence ?? 1).padStart(4, '0')}`;
    customer.next_invoice_sequence = (customer.next_invoice_sequence ?? 1) + 1;
    invoice.status = 'open';
    invoice.status_transitions.finalized_at = at;
    invoice.effective_at = at;
    this.store.invoices.set(invoice.id, invoice);
    this.pay(invoice, customer, at, paymentSucceeds);
    return invoice;
  }

  /** Charges the invoice (always succeeds unless the customer was told to fail). */
  private pay(invoice: Stripe.Invoice, customer: Stripe.Customer, at: number, paymentSucceeds: boolean): void {
    if (!paymentSucceeds && invoice.amount_due > 0 && this.store.failingCustomers.has(customer.id)) {
      this.store.failingCustomers.delete(customer.id);
      invoice.attempted = true;
      invoice.attempt_count += 1;
      invoice.next_payment_attempt = at + 3 * DAY;
      return;
    }
    invoice.attempted = true;
    invoice.attempt_count += invoice.amount_due > 0 ? 1 : 0;
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.status = 'paid';
    invoice.status_transitions.paid_at = at;
    invoice.next_payment_attempt = null;
    customer.balance = invoice.ending_balance ?? customer.balance;
  }

  private invoiceHappenings(invoice: Stripe.Invoice, at?: number): Happening[] {
    return invoice.status === 'paid'
      ? [{ type: 'invoice.paid', object: invoice, at }]
      : [{ type: 'invoice.payment_failed', object: invoice, at }];
  }

  // ---------------------------------------------------------------- changes

  private plannedFromSubscription(subscription: LocalSubscription): PlannedItem[] {
    return subscription.items.data.map((item) => ({ existing: item, price: item.price, quantity: item.quantity ?? 1 }));
  }

  /** Applies `items[]` to the current items: change price/quantity by id, delete, or add new ones. */
  private planItems(subscription: LocalSubscription, changes: ItemChange[] | undefined, itemsParam: string): PlannedItem[] {
    const planned = this.plannedFromSubscription(subscription);
    if (!changes) return planned;
    changes.forEach((change, index) => {
      const param = `${itemsParam}[${index}]`;
      if (change.id) {
        const target = planned.find((item) => item.existing?.id === change.id);
        if (!target) throw invalidParameter(`${param}[id]`, `No such subscription item: '${change.id}'`, 'resource_missing');
        if (change.deleted) {
          planned.splice(planned.indexOf(target), 1);
          return;
        }
        if (change.price) target.price = this.store.price(change.price, `${param}[price]`);
        if (change.quantity !== undefined) target.quantity = change.quantity;
        if (change.metadata) target.metadata = change.metadata;
        return;
      }
      if (!change.price) throw invalidParameter(`${param}[price]`, `Missing required param: ${param}[price].`, 'parameter_missing');
      const price = this.store.price(change.price, `${param}[price]`);
      if (planned.some((item) => item.price.id === price.id)) {
        throw invalidParameter(`${param}[price]`, `Cannot add multiple subscription items with the same price: ${price.id}`);
      }
      planned.push({ existing: null, price, quantity: change.quantity ?? 1, metadata: change.metadata });
    });
    if (planned.length === 0) throw invalidParameter(itemsParam, 'A subscription needs at least one item.');
    return planned;
  }

  private checkCompatible(prices: Stripe.Price[], param: string): { interval: Interval; intervalCount: number; currency: string } {
    const first = recurringOf(prices[0], param);
    for (const price of prices) {
      const recurring = recurringOf(price, param);
      if (recurring.interval !== first.interval || recurring.interval_count !== first.interval_count || price.currency !== prices[0].currency) {
        throw invalidParameter(param, 'Currency and interval fields must match across all plans on this subscription.');
      }
    }
    return { interval: first.interval, intervalCount: first.interval_count, currency: prices[0].currency };
  }

  /**
   * Proration lines for changing `before` into `after` at `at`: a credit for the unused time of every item that changed
   * and a charge for the remaining time at the new price/quantity, each `round(amount × remaining / period)`.
   */
  prorationLines(subscription: LocalSubscription, before: PlannedItem[], after: PlannedItem[], at: number, chargeNew = true): LineInput[] {
    const period = { start: subscription.current_period_start, end: subscription.current_period_end };
    const lines: LineInput[] = [];
    const label = (item: PlannedItem) => `${item.quantity > 1 ? `${item.quantity} × ` : ''}${this.store.productName(item.price)}`;
    const matchedBefore = (item: PlannedItem) => (item.existing ? before.find((old) => old.existing?.id === item.existing!.id) : undefined);
    for (const old of before) {
      const next = after.find((item) => item.existing?.id === old.existing?.id);
      if (next && next.price.id === old.price.id && next.quantity === old.quantity) continue;
      const credit = prorate((old.price.unit_amount ?? 0) * old.quantity, period, at);
      if (credit !== 0) {
        lines.push({
          amount: -credit,
          currency: subscription.currency,
          description: `Unused time on ${label(old)} after ${formatDay(at)}`,
          period: { start: at, end: period.end },
          price: old.price,
          quantity: old.quantity,
          subscription: subscription.id,
          subscriptionItem: old.existing?.id ?? null,
          invoiceItem: null,
          proration: true,
        });
      }
    }
    if (!chargeNew) return lines;
    for (const item of after) {
      const old = matchedBefore(item);
      if (old && old.price.id === item.price.id && old.quantity === item.quantity) continue;
      const charge = prorate((item.price.unit_amount ?? 0) * item.quantity, period, at);
      if (charge !== 0) {
        lines.push({
          amount: charge,
          currency: subscription.currency,
          description: `Remaining time on ${label(item)} after ${formatDay(at)}`,
          period: { start: at, end: period.end },
          price: item.price,
          quantity: item.quantity,
          subscription: subscription.id,
          subscriptionItem: item.existing?.id ?? null,
          invoiceItem: null,
          proration: true,
        });
      }
    }
    return lines;
  }

  private prorationAt(subscription: LocalSubscription, prorationDate: number | undefined, param: string): number {
    const at = prorationDate ?? this.now();
    if (at < subscription.current_period_start || at > subscription.current_period_end) {
      throw invalidParameter(param, 'The proration date must be within the current billing period of the subscription.');
    }
    return at;
  }

  updateSubscription(
    subscription: LocalSubscription,
    change: SubscriptionChange,
  ): { subscription: LocalSubscription; invoice: LocalInvoice | null; happenings: Happening[] } {
    if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
      const onlyMetadata = !change.items && change.cancelAtPeriodEnd === undefined && change.trialEnd === undefined && change.cancelAt === undefined;
      if (!onlyMetadata) {
        throw invalidRequest(`A canceled subscription can only update its cancellation_details and metadata.`);
      }
    }
    const before = snapshot(subscription);
    const t = this.now();
    const happenings: Happening[] = [];
    let invoice: LocalInvoice | null = null;
    const behavior = change.prorationBehavior ?? 'create_prorations';

    if (change.items) {
      const oldItems = this.plannedFromSubscription(subscription);
      const newItems = this.planItems(subscription, change.items, 'items');
      const { interval, intervalCount } = this.checkCompatible(newItems.map((item) => item.price), 'items');
      const oldRecurring = subscription.items.data[0].price.recurring!;
      const cycleChanges = oldRecurring.interval !== interval || oldRecurring.interval_count !== intervalCount;
      const newCurrency = newItems[0].price.currency;
      if (newCurrency !== subscription.currency) {
        throw invalidParameter('items', `The price currency (${newCurrency}) must match the subscription's currency (${subscription.currency}).`);
      }
      const trialing = subscription.status === 'trialing';
      const at = trialing ? t : this.prorationAt(subscription, change.prorationDate, 'proration_date');
      const prorations = trialing || behavior === 'none' ? [] : this.prorationLines(subscription, oldItems, newItems, at, !cycleChanges);
      this.applyItems(subscription, newItems, t);
      for (const line of prorations) {
        // charges for items added by this change point at the item just created
        line.subscriptionItem ??= subscription.items.data.find((item) => item.price.id === line.price.id)?.id ?? null;
      }

      if (cycleChanges && !trialing) {
        // a new interval resets the billing cycle: credit the unused time, charge the new period now
        const period = { start: t, end: addIntervals(t, interval, intervalCount) };
        this.setPeriod(subscription, period);
        subscription.billing_cycle_anchor = t;
        for (const line of prorations) this.addInvoiceItem(subscription, line, t);
        invoice = this.invoiceNow(subscription, this.periodLines(subscription, period), 'subscription_update', period);
      } else if (prorations.length > 0) {
        for (const line of prorations) this.addInvoiceItem(subscription, line, t);
        if (behavior === 'always_invoice') {
          invoice = this.invoiceNow(subscription, [], 'subscription_update', { start: at, end: subscription.current_period_end });
        }
      }
      if (invoice) {
        subscription.latest_invoice = invoice.id;
        if (invoice.status !== 'paid') subscription.status = 'past_due';
      }
    }

    if (change.trialEnd !== undefined) this.changeTrialEnd(subscription, change.trialEnd, happenings);

    if (change.cancelAtPeriodEnd !== undefined) {
      subscription.cancel_at_period_end = change.cancelAtPeriodEnd;
      subscription.cancel_at = change.cancelAtPeriodEnd ? subscription.current_period_end : null;
      subscription.canceled_at = change.cancelAtPeriodEnd ? t : null;
      subscription.cancellation_details = { comment: null, feedback: null, reason: change.cancelAtPeriodEnd ? 'cancellation_requested' : null };
    }
    if (change.cancelAt !== undefined) {
      if (change.cancelAt !== null && change.cancelAt <= t) throw invalidParameter('cancel_at', 'Invalid timestamp: must be in the future.');
      subscription.cancel_at = change.cancelAt;
      subscription.cancel_at_period_end = change.cancelAt !== null && change.cancelAt === subscription.current_period_end;
      subscription.canceled_at = change.cancelAt !== null ? t : null;
      subscription.cancellation_details = { comment: null, feedback: null, reason: change.cancelAt !== null ? 'cancellation_requested' : null };
    }
    if (change.metadata) subscription.metadata = change.metadata;
    if (change.description !== undefined) subscription.description = change.description;

    const previousAttributes = diffTopLevel(before, subscription);
    happenings.unshift({ type: 'customer.subscription.updated', object: subscription, previousAttributes });
    if (invoice) happenings.push(...this.invoiceHappenings(invoice));
    return { subscription, invoice, happenings };
  }

  private changeTrialEnd(subscription: LocalSubscription, trialEnd: 'now' | number, happenings: Happening[]): void {
    const t = this.now();
    if (subscription.status !== 'trialing') {
      if (trialEnd === 'now') throw invalidParameter('trial_end', 'The subscription is not trialing.');
    }
    if (trialEnd === 'now' || trialEnd <= t) {
      if (trialEnd !== 'now') throw invalidParameter('trial_end', 'Invalid timestamp: must be in the future.');
      this.endTrial(subscription, t, happenings);
      return;
    }
    subscription.trial_end = trialEnd;
    subscription.status = 'trialing';
    subscription.billing_cycle_anchor = trialEnd;
    this.setPeriod(subscription, { start: subscription.current_period_start, end: trialEnd });
  }

  private endTrial(subscription: LocalSubscription, at: number, happenings: Happening[]): LocalInvoice {
    const recurring = subscription.items.data[0].price.recurring!;
    const period = { start: at, end: addIntervals(at, recurring.interval, recurring.interval_count) };
    subscription.trial_end = at;
    subscription.billing_cycle_anchor = at;
    this.setPeriod(subscription, period);
    const invoice = this.invoiceNow(subscription, this.periodLines(subscription, period), 'subscription_cycle', period, at);
    subscription.latest_invoice = invoice.id;
    subscription.status = invoice.status === 'paid' ? 'active' : 'past_due';
    happenings.push(...this.invoiceHappenings(invoice, at));
    return invoice;
  }

  private applyItems(subscription: LocalSubscription, planned: PlannedItem[], t: number): void {
    const period = { start: subscription.current_period_start, end: subscription.current_period_end };
    subscription.items.data = planned.map((item) => {
      if (item.existing) {
        item.existing.price = item.price;
        item.existing.plan = planFromPrice(item.price);
        item.existing.quantity = item.quantity;
        if (item.metadata) item.existing.metadata = { ...item.existing.metadata, ...item.metadata };
        return item.existing;
      }
      return newSubscriptionItem({ now: t, price: item.price, quantity: item.quantity, subscription: subscription.id, period, metadata: item.metadata });
    });
  }

  private setPeriod(subscription: LocalSubscription, period: { start: number; end: number }): void {
    subscription.current_period_start = period.start;
    subscription.current_period_end = period.end;
    for (const item of subscription.items.data) {
      item.current_period_start = period.start;
      item.current_period_end = period.end;
    }
    if (subscription.cancel_at_period_end) subscription.cancel_at = period.end;
  }

  private addInvoiceItem(subscription: LocalSubscription, line: LineInput, t: number): Stripe.InvoiceItem {
    const item = newInvoiceItem({ ...line, now: t, customer: subscription.customer as string });
    this.store.invoiceItems.set(item.id, item);
    return item;
  }

  // ---------------------------------------------------------------- preview

  /**
   * The upcoming invoice (`POST /v1/invoices/create_preview`): pending prorations plus the next period's charge; with
   * `subscription_details[items]` the change is simulated at `proration_date` (or now) without changing anything.
   */
  preview(
    subscription: LocalSubscription,
    details: { items?: ItemChange[]; prorationBehavior?: ProrationBehavior; prorationDate?: number; cancelAtPeriodEnd?: boolean },
  ): Stripe.Invoice {
    const customer = this.store.customer(subscription.customer as string);
    const ended = subscription.status === 'canceled' || subscription.status === 'incomplete_expired';
    const cancelsAtEnd = details.cancelAtPeriodEnd ?? (subscription.cancel_at !== null && subscription.cancel_at <= subscription.current_period_end);
    const t = this.now();
    let lines: LineInput[] = [...this.pendingLines(subscription.id).lines];
    let nextAttempt = subscription.current_period_end;
    let period = {
      start: subscription.current_period_end,
      end: addIntervals(
        subscription.current_period_end,
        subscription.items.data[0].price.recurring!.interval,
        subscription.items.data[0].price.recurring!.interval_count,
      ),
    };
    let items = this.plannedFromSubscription(subscription);

    if (details.items && !ended) {
      const newItems = this.planItems(subscription, details.items, 'subscription_details[items]');
      const { interval, intervalCount } = this.checkCompatible(newItems.map((item) => item.price), 'subscription_details[items]');
      const oldRecurring = subscription.items.data[0].price.recurring!;
      const cycleChanges = oldRecurring.interval !== interval || oldRecurring.interval_count !== intervalCount;
      const trialing = subscription.status === 'trialing';
      const behavior = details.prorationBehavior ?? 'create_prorations';
      const at = trialing ? t : this.prorationAt(subscription, details.prorationDate, 'subscription_details[proration_date]');
      if (!trialing && behavior !== 'none') lines.push(...this.prorationLines(subscription, items, newItems, at, !cycleChanges));
      items = newItems;
      if (cycleChanges && !trialing) {
        period = { start: at, end: addIntervals(at, interval, intervalCount) };
        nextAttempt = at;
      }
      if (behavior === 'always_invoice' && !cycleChanges) {
        // the prorations are invoiced at once; the preview shows that invoice
        nextAttempt = at;
        return this.previewInvoice(customer, subscription, lines, { start: at, end: subscription.current_period_end }, nextAttempt, 'subscription_update');
      }
    } else if (ended || cancelsAtEnd) {
      throw noUpcomingInvoice(customer.id);
    }

    lines = [...lines, ...this.periodLines(subscription, period, items)];
    return this.previewInvoice(customer, subscription, lines, period, nextAttempt, 'upcoming');
  }

  private previewInvoice(
    customer: Stripe.Customer,
    subscription: LocalSubscription,
    lines: LineInput[],
    period: { start: number; end: number },
    nextPaymentAttempt: number,
    billingReason: Stripe.Invoice.BillingReason,
  ): Stripe.Invoice {
    return newInvoice({
      id: newId('upcoming_in'),
      now: this.now(),
      customer,
      currency: subscription.currency,
      lines,
      subscription,
      billingReason,
      period,
      baseUrl: this.baseUrl(),
      preview: true,
      nextPaymentAttempt,
    });
  }

  // ---------------------------------------------------------------- cancellation and time

  cancel(subscription: LocalSubscription, at = this.now()): Happening[] {
    if (subscription.status === 'canceled') {
      throw invalidRequest(`This subscription has already been canceled: ${subscription.id}`);
    }
    subscription.status = 'canceled';
    subscription.canceled_at = subscription.canceled_at ?? at;
    subscription.ended_at = at;
    subscription.cancellation_details = { comment: null, feedback: null, reason: 'cancellation_requested' };
    return [{ type: 'customer.subscription.deleted', object: subscription, at }];
  }

  /**
   * What happens to every subscription up to now: trial-end notices 3 days ahead, trials ending (first charge), periods
   * renewing (a `subscription_cycle` invoice with the pending prorations), and scheduled cancellations.
   */
  catchUp(): Happening[] {
    const happenings: Happening[] = [];
    const t = this.now();
    for (const subscription of this.store.subscriptions.values()) {
      for (let guard = 0; guard < 1000; guard += 1) {
        if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired' || subscription.status === 'incomplete') break;
        if (subscription.status === 'trialing' && subscription.trial_end !== null) {
          const noticeAt = subscription.trial_end - TRIAL_WILL_END_NOTICE;
          if (noticeAt <= t && this.trialNoticesSent.get(subscription.id) !== subscription.trial_end) {
            this.trialNoticesSent.set(subscription.id, subscription.trial_end);
            happenings.push({ type: 'customer.subscription.trial_will_end', object: snapshot(subscription), at: Math.max(noticeAt, subscription.created) });
          }
        }
        const end = subscription.current_period_end;
        if (end > t) break;
        if (subscription.cancel_at !== null && subscription.cancel_at <= end) {
          happenings.push(...this.cancel(subscription, subscription.cancel_at).map((h) => ({ ...h, object: snapshot(h.object) })));
          break;
        }
        const previous = snapshot(subscription);
        const local: Happening[] = [];
        if (subscription.status === 'trialing') {
          this.endTrial(subscription, end, local);
        } else {
          const recurring = subscription.items.data[0].price.recurring!;
          const nextIndex = this.periodIndex(subscription, end) + 1;
          const period = { start: end, end: addIntervals(subscription.billing_cycle_anchor, recurring.interval, recurring.interval_count, nextIndex) };
          this.setPeriod(subscription, period);
          const invoice = this.invoiceNow(subscription, this.periodLines(subscription, period), 'subscription_cycle', period, end);
          subscription.latest_invoice = invoice.id;
          subscription.status = invoice.status === 'paid' ? 'active' : 'past_due';
          local.push(...this.invoiceHappenings(invoice, end));
        }
        happenings.push({
          type: 'customer.subscription.updated',
          object: snapshot(subscription),
          previousAttributes: diffTopLevel(previous, subscription),
          at: end,
        });
        happenings.push(...local.map((h) => ({ ...h, object: snapshot(h.object) })));
      }
    }
    return happenings.sort((a, b) => (a.at ?? t) - (b.at ?? t));
  }

  /** How many whole periods lie between the anchor and `at` (so renewals count from the anchor, like Stripe). */
  private periodIndex(subscription: LocalSubscription, at: number): number {
    const recurring = subscription.items.data[0].price.recurring!;
    let index = 0;
    while (addIntervals(subscription.billing_cycle_anchor, recurring.interval, recurring.interval_count, index + 1) <= at) index += 1;
    return index;
  }
}

/** The top-level fields whose values differ, with their old values (an event's `previous_attributes`). */
export function diffTopLevel(before: object, after: object): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  const oldRecord = before as Record<string, unknown>;
  const newRecord = snapshot(after) as Record<string, unknown>;
  for (const key of Object.keys(oldRecord)) {
    if (JSON.stringify(oldRecord[key]) !== JSON.stringify(newRecord[key])) previous[key] = oldRecord[key];
  }
  return previous;
}
