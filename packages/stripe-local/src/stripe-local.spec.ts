import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { parseStripeForm } from './form';
import { addIntervals } from './periods';
import { startStripeLocal, type StripeLocal } from './server';

const WEBHOOK_SECRET = 'whsec_stripe_local_spec';
const DAY = 86_400;
/** 2025-01-01T00:00:00Z: a known clock, so periods and prorations can be computed by hand. */
const START = Date.UTC(2025, 0, 1) / 1000;
const FEB_1 = Date.UTC(2025, 1, 1) / 1000;

interface ReceivedWebhook {
  rawBody: string;
  signature: string;
}

/** A stand-in for billing's webhook sidecar: records raw bodies and signatures, answers 200. */
class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({ rawBody: Buffer.concat(chunks).toString('utf8'), signature: String(request.headers['stripe-signature'] ?? '') });
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end('{"received":true,"duplicate":false}');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/stripe`;
  }

  /** Every received event, each verified the way billing verifies it (throws on a bad signature). */
  verifiedEvents(stripe: Stripe): Stripe.Event[] {
    return this.received.map(({ rawBody, signature }) => stripe.webhooks.constructEvent(rawBody, signature, WEBHOOK_SECRET));
  }

  clear(): void {
    this.received.length = 0;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const receiver = new WebhookReceiver();
const running: StripeLocal[] = [];

/** A fresh stand-in whose clock starts at START, and the real SDK pointed at it. */
async function setup(options: { sendApiEvents?: boolean } = {}): Promise<{ local: StripeLocal; stripe: Stripe }> {
  const local = await startStripeLocal({
    webhookUrl: receiver.url,
    webhookSecret: WEBHOOK_SECRET,
    clock: () => new Date(START * 1000),
    sendApiEvents: options.sendApiEvents,
  });
  running.push(local);
  const stripe = new Stripe('sk_test_local', { host: '127.0.0.1', port: local.port, protocol: 'http' });
  return { local, stripe };
}

async function basicAndPro(stripe: Stripe) {
  const basic = await stripe.prices.create({
    currency: 'usd',
    unit_amount: 1000,
    recurring: { interval: 'month' },
    product_data: { name: 'Basic' },
    lookup_key: 'basic_monthly',
  });
  const pro = await stripe.prices.create({
    currency: 'usd',
    unit_amount: 3000,
    recurring: { interval: 'month' },
    product_data: { name: 'Pro' },
    lookup_key: 'pro_monthly',
  });
  return { basic, pro };
}

/** Customer → checkout for `price` → completed: an active subscription with its first invoice paid. */
async function subscribe(local: StripeLocal, stripe: Stripe, price: Stripe.Price, email = 'owner@example.com') {
  const customer = await stripe.customers.create({ email });
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: 'https://app.example/billing/success?session={CHECKOUT_SESSION_ID}',
  });
  const completion = await local.completeCheckout(session.id);
  return { customer, session, subscription: completion.subscription!, invoice: completion.invoice };
}

beforeAll(async () => {
  await receiver.start();
});

beforeEach(() => receiver.clear());

afterEach(async () => {
  await Promise.all(running.splice(0).map((local) => local.stop()));
});

afterAll(async () => {
  await receiver.stop();
});

describe('form parsing (bracket notation, with qs)', () => {
  it('builds nested objects and arrays the way Stripe reads them', () => {
    const form = parseStripeForm(
      [
        'mode=subscription',
        'line_items[0][price]=price_1',
        'line_items[0][quantity]=2',
        'line_items[1][price_data][product_data][name]=Add%20on+pack',
        'metadata[merchantId]=m_1',
        'metadata[0]=zero',
        'subscription_data[trial_period_days]=30',
        'subscription_data[metadata][platformId]=p_1',
        'expand[]=line_items',
        'expand[]=customer',
        '__proto__[polluted]=yes',
      ].join('&'),
    );
    expect(form).toEqual({
      mode: 'subscription',
      line_items: [{ price: 'price_1', quantity: '2' }, { price_data: { product_data: { name: 'Add on pack' } } }],
      metadata: { merchantId: 'm_1', '0': 'zero' },
      subscription_data: { trial_period_days: '30', metadata: { platformId: 'p_1' } },
      expand: ['line_items', 'customer'],
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps metadata flat, the last of a repeated key, and long lists as lists', () => {
    const items = Array.from({ length: 30 }, (_, i) => `line_items[${i}][price]=p${i}`).join('&');
    const form = parseStripeForm(`metadata[0]=a&metadata[1]=b&metadata[1]=c&mode=payment&mode=subscription&${items}`);
    expect(form.metadata).toEqual({ '0': 'a', '1': 'c' });
    expect(form.mode).toBe('subscription');
    expect(form.line_items).toHaveLength(30);
    expect((form.line_items as Array<{ price: string }>)[29]).toEqual({ price: 'p29' });
  });

  it('takes metadata keys verbatim: numbers stay the keys they are (no array, no renumbering), brackets inside a key are part of it', () => {
    const form = parseStripeForm(
      [
        'metadata[0]=a',
        'metadata[10]=b',
        'metadata[a][b]=c',
        'metadata[x[y]]=d',
        'metadata[%5Fz%3D]=e',
        'subscription_data[metadata][7]=f',
        'line_items[0][price_data][product_data][metadata][2]=g',
        'line_items[0][quantity]=1',
      ].join('&'),
    );
    expect(form).toEqual({
      metadata: { '0': 'a', '10': 'b', 'a][b': 'c', 'x[y]': 'd', '_z=': 'e' },
      subscription_data: { metadata: { '7': 'f' } },
      line_items: [{ price_data: { product_data: { metadata: { '2': 'g' } } }, quantity: '1' }],
    });
  });

  it('counts months from the anchor and clamps to the end of shorter months', () => {
    const jan31 = Date.UTC(2025, 0, 31) / 1000;
    expect(addIntervals(jan31, 'month', 1, 1)).toBe(Date.UTC(2025, 1, 28) / 1000);
    expect(addIntervals(jan31, 'month', 1, 2)).toBe(Date.UTC(2025, 2, 31) / 1000);
    expect(addIntervals(START, 'year', 1, 1)).toBe(Date.UTC(2026, 0, 1) / 1000);
  });
});

describe('stripe-local with the real stripe SDK', () => {
  it('keeps metadata keys as the SDK sends them: numeric keys and keys with brackets come back as they were', async () => {
    const { stripe } = await setup();
    const metadata = { '0': 'zero', '10': 'ten', '2': 'two', 'a[b]': 'nested?', 'c][d': 'closed', plain: 'p' };
    const customer = await stripe.customers.create({ email: 'meta@example.com', metadata });
    expect(customer.metadata).toEqual(metadata);
    expect((await stripe.customers.retrieve(customer.id) as Stripe.Customer).metadata).toEqual(metadata);
    // an update merges by key and an empty value removes one, numeric keys included
    const updated = await stripe.customers.update(customer.id, { metadata: { '10': '', '3': 'three' } });
    const { '10': _removed, ...rest } = metadata;
    expect(updated.metadata).toEqual({ ...rest, '3': 'three' });

    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 500, product_data: { name: 'Meta', metadata: { '1': 'one', '11': 'eleven' } } });
    expect((await stripe.products.retrieve(price.product as string)).metadata).toEqual({ '1': 'one', '11': 'eleven' });
  });

  it('creates and retrieves customers and prices', async () => {
    const { stripe } = await setup();
    const customer = await stripe.customers.create({ email: 'owner@example.com', name: 'Owner', metadata: { merchantId: 'm_1' } });
    expect(customer).toMatchObject({ object: 'customer', email: 'owner@example.com', metadata: { merchantId: 'm_1' }, created: START, livemode: false });
    expect(customer.id).toMatch(/^cus_/);
    expect(await stripe.customers.retrieve(customer.id)).toEqual(customer);

    const { basic } = await basicAndPro(stripe);
    expect(basic).toMatchObject({
      object: 'price',
      type: 'recurring',
      unit_amount: 1000,
      currency: 'usd',
      lookup_key: 'basic_monthly',
      recurring: { interval: 'month', interval_count: 1 },
    });
    expect(basic.id).toMatch(/^price_/);
    expect(basic.product).toMatch(/^prod_/);
    expect(await stripe.prices.retrieve(basic.id)).toEqual(basic);
    const byLookupKey = await stripe.prices.list({ lookup_keys: ['basic_monthly'] });
    expect(byLookupKey.data.map((price) => price.id)).toEqual([basic.id]);
    await expect(
      stripe.prices.create({ currency: 'usd', unit_amount: 1, product: String(basic.product), lookup_key: 'basic_monthly' }),
    ).rejects.toMatchObject({ type: 'StripeInvalidRequestError', param: 'lookup_key' });
  });

  it('creates a checkout session with line items, metadata and a trial, and retrieves it', async () => {
    const { local, stripe } = await setup();
    const { pro } = await basicAndPro(stripe);
    const customer = await stripe.customers.create({ email: 'owner@example.com' });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: pro.id, quantity: 1 }],
      success_url: 'https://app.example/success?session={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://app.example/cancel',
      metadata: { merchantId: 'm_1', tierCode: 'pro' },
      subscription_data: { trial_period_days: 30, metadata: { merchantId: 'm_1' } },
    });
    expect(session.id).toMatch(/^cs_/);
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'subscription',
      status: 'open',
      payment_status: 'unpaid',
      customer: customer.id,
      metadata: { merchantId: 'm_1', tierCode: 'pro' },
      success_url: 'https://app.example/success?session={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://app.example/cancel',
      subscription: null,
      url: `${local.url}/checkout/${session.id}`,
    });
    const page = await fetch(session.url!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('30-day free trial');

    const retrieved = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
    expect(retrieved.line_items?.data).toEqual([
      expect.objectContaining({ object: 'item', quantity: 1, amount_total: 3000, description: 'Pro', price: expect.objectContaining({ id: pro.id }) }),
    ]);
    const lineItems = await stripe.checkout.sessions.listLineItems(session.id);
    expect(lineItems.data.map((item) => item.price?.id)).toEqual([pro.id]);

    // completing a trial checkout: a trialing subscription, no charge, no invoice
    const completion = await local.completeCheckout(session.id);
    expect(completion.subscription).toMatchObject({
      status: 'trialing',
      trial_start: START,
      trial_end: START + 30 * DAY,
      metadata: { merchantId: 'm_1' },
      current_period_end: START + 30 * DAY,
    });
    expect(completion.invoice).toBeNull();
    expect(receiver.verifiedEvents(stripe).map((event) => event.type)).toEqual(['checkout.session.completed', 'customer.subscription.created']);
    const completed = await stripe.checkout.sessions.retrieve(session.id);
    expect(completed).toMatchObject({ status: 'complete', payment_status: 'no_payment_required', subscription: completion.subscription!.id });
  });

  it('creates billing portal sessions', async () => {
    const { local, stripe } = await setup();
    const customer = await stripe.customers.create({ email: 'owner@example.com' });
    const portal = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.example/billing' });
    expect(portal.id).toMatch(/^bps_/);
    expect(portal).toMatchObject({ object: 'billing_portal.session', customer: customer.id, return_url: 'https://app.example/billing', created: START });
    expect(portal.url.startsWith(`${local.url}/billing_portal/`)).toBe(true);
    expect((await fetch(portal.url)).status).toBe(200);
    await expect(stripe.billingPortal.sessions.create({ customer: 'cus_missing' })).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      code: 'resource_missing',
      param: 'customer',
    });
  });

  it('completes a checkout and sends the three signed events in order', async () => {
    const { local, stripe } = await setup();
    const { basic } = await basicAndPro(stripe);
    const customer = await stripe.customers.create({ email: 'owner@example.com' });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: basic.id, quantity: 1 }],
      success_url: 'https://app.example/success',
      metadata: { merchantId: 'm_1' },
      subscription_data: { metadata: { merchantId: 'm_1', platformId: 'p_1' } },
    });

    // the demo route acts it out the same way as completeCheckout()
    const response = await fetch(`${local.url}/_local/checkout/sessions/${session.id}/complete`, { method: 'POST' });
    expect(response.status).toBe(200);
    const completion = (await response.json()) as { deliveries: Array<{ ok: boolean; status: number }> };
    expect(completion.deliveries.map((delivery) => delivery.status)).toEqual([200, 200, 200]);

    const events = receiver.verifiedEvents(stripe);
    expect(events.map((event) => event.type)).toEqual(['checkout.session.completed', 'customer.subscription.created', 'invoice.paid']);
    for (const event of events) {
      expect(event).toMatchObject({ object: 'event', api_version: '2025-08-27.basil', livemode: false, created: START });
      expect(event.id).toMatch(/^evt_/);
    }
    const [completedEvent, createdEvent, paidEvent] = events;
    const completedSession = completedEvent.data.object as Stripe.Checkout.Session;
    const subscription = createdEvent.data.object as Stripe.Subscription & { current_period_end: number };
    const invoice = paidEvent.data.object as Stripe.Invoice;
    expect(completedSession).toMatchObject({ id: session.id, status: 'complete', payment_status: 'paid', customer: customer.id, subscription: subscription.id, metadata: { merchantId: 'm_1' } });
    expect(subscription).toMatchObject({
      object: 'subscription',
      status: 'active',
      customer: customer.id,
      metadata: { merchantId: 'm_1', platformId: 'p_1' },
      current_period_start: START,
      current_period_end: FEB_1,
      latest_invoice: invoice.id,
    });
    expect(subscription.id).toMatch(/^sub_/);
    expect(subscription.items.data[0]).toMatchObject({ object: 'subscription_item', current_period_start: START, current_period_end: FEB_1, price: { id: basic.id } });
    expect(subscription.items.data[0].id).toMatch(/^si_/);
    expect(invoice).toMatchObject({
      object: 'invoice',
      status: 'paid',
      amount_paid: 1000,
      amount_due: 1000,
      customer: customer.id,
      billing_reason: 'subscription_create',
      parent: { subscription_details: { subscription: subscription.id } },
    });
    expect(invoice.id).toMatch(/^in_/);
    expect(invoice.lines.data).toEqual([expect.objectContaining({ amount: 1000, description: '1 × Basic (at $10.00 / month)', period: { start: START, end: FEB_1 } })]);

    // a completed session cannot be completed again
    await expect(local.completeCheckout(session.id)).rejects.toThrow(/complete/);
  });

  it('sends any signed event on demand', async () => {
    const { local, stripe } = await setup();
    const { basic } = await basicAndPro(stripe);
    const { invoice } = await subscribe(local, stripe, basic);
    receiver.clear();
    const { event, delivery } = await local.emit('invoice.payment_failed', invoice!.id);
    expect(delivery).toMatchObject({ ok: true, status: 200 });
    const [received] = receiver.verifiedEvents(stripe);
    expect(received).toMatchObject({ id: event.id, type: 'invoice.payment_failed', data: { object: { id: invoice!.id } } });
    expect(() => stripe.webhooks.constructEvent(receiver.received[0].rawBody, receiver.received[0].signature, 'whsec_wrong')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('updates a subscription with prorations and previews the upcoming invoice', async () => {
    const { local, stripe } = await setup();
    const { basic, pro } = await basicAndPro(stripe);
    const { subscription } = await subscribe(local, stripe, basic);

    await local.advanceClock(10 * DAY); // 2025-01-11: 21 of the period's 31 days remain
    const at = START + 10 * DAY;
    const updated = await stripe.subscriptions.update(subscription.id, {
      items: [{ id: subscription.items.data[0].id, price: pro.id }],
      proration_behavior: 'create_prorations',
      metadata: { tierCode: 'pro' },
    });
    expect(updated.items.data).toHaveLength(1);
    expect(updated.items.data[0]).toMatchObject({ id: subscription.items.data[0].id, price: { id: pro.id }, current_period_end: FEB_1 });
    expect(updated).toMatchObject({ status: 'active', current_period_start: START, current_period_end: FEB_1, metadata: { tierCode: 'pro' } });
    expect(await stripe.subscriptions.retrieve(subscription.id)).toEqual(updated);

    // by hand: the period is 31 days, 21 remain → credit round(1000 × 21/31) = 677, charge round(3000 × 21/31) = 2032
    const remaining = FEB_1 - at;
    const period = FEB_1 - START;
    expect([remaining, period]).toEqual([21 * DAY, 31 * DAY]);
    const credit = -677;
    const charge = 2032;
    expect(credit).toBe(-Math.round((1000 * remaining) / period));
    expect(charge).toBe(Math.round((3000 * remaining) / period));

    const preview = await stripe.invoices.createPreview({ customer: String(updated.customer), subscription: subscription.id });
    expect(preview.lines.data.map((line) => [line.amount, line.description])).toEqual([
      [credit, 'Unused time on Basic after 11 Jan 2025'],
      [charge, 'Remaining time on Pro after 11 Jan 2025'],
      [3000, '1 × Pro (at $30.00 / month)'],
    ]);
    expect(preview.lines.data.slice(0, 2).every((line) => line.parent?.subscription_item_details?.proration)).toBe(true);
    expect(preview).toMatchObject({ object: 'invoice', currency: 'usd', amount_due: credit + charge + 3000, next_payment_attempt: FEB_1 });
    expect(credit + charge).toBe(1355);

    // previewing another change simulates it without applying it: Pro → Basic at the same moment
    const downgrade = await stripe.invoices.createPreview({
      subscription: subscription.id,
      subscription_details: { items: [{ id: updated.items.data[0].id, price: basic.id }], proration_date: at },
    });
    expect(downgrade.lines.data.map((line) => line.amount)).toEqual([credit, charge, -charge, -credit, 1000]);
    expect((await stripe.subscriptions.retrieve(subscription.id)).items.data[0].price.id).toBe(pro.id);

    // at the period's end the renewal invoice bills the prorations and the new period
    const renewal = await local.advanceClock(FEB_1 - at);
    expect(renewal.events.map((event) => event.type)).toEqual(['customer.subscription.updated', 'invoice.paid']);
    const invoices = await stripe.invoices.list({ subscription: subscription.id });
    expect(invoices.data[0]).toMatchObject({ billing_reason: 'subscription_cycle', status: 'paid', amount_paid: 4355 });
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ current_period_start: FEB_1, current_period_end: Date.UTC(2025, 2, 1) / 1000 });
  });

  it('acts out a trial: the notice 3 days ahead, then the first charge, and a failing renewal', async () => {
    const { local, stripe } = await setup();
    const { pro } = await basicAndPro(stripe);
    const customer = await stripe.customers.create({ email: 'trial@example.com' });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: pro.id, quantity: 1 }],
      subscription_data: { trial_period_days: 14 },
    });
    const { subscription } = await local.completeCheckout(session.id);
    receiver.clear();

    const notice = await local.advanceClock(11 * DAY);
    expect(notice.events.map((event) => event.type)).toEqual(['customer.subscription.trial_will_end']);
    const trialEnd = START + 14 * DAY;
    const firstCharge = await local.advanceClock(3 * DAY);
    expect(firstCharge.events.map((event) => [event.type, event.created])).toEqual([
      ['customer.subscription.updated', trialEnd],
      ['invoice.paid', trialEnd],
    ]);
    expect(firstCharge.events[0].data.previous_attributes).toMatchObject({ status: 'trialing' });
    expect(await stripe.subscriptions.retrieve(subscription!.id)).toMatchObject({
      status: 'active',
      current_period_start: trialEnd,
      current_period_end: addIntervals(trialEnd, 'month', 1),
    });

    local.failNextPayment(customer.id);
    const renewal = await local.advanceClock(31 * DAY);
    expect(renewal.events.map((event) => event.type)).toEqual(['customer.subscription.updated', 'invoice.payment_failed']);
    expect(await stripe.subscriptions.retrieve(subscription!.id)).toMatchObject({ status: 'past_due' });
    expect(receiver.verifiedEvents(stripe).map((event) => event.type)).toEqual([
      'customer.subscription.trial_will_end',
      'customer.subscription.updated',
      'invoice.paid',
      'customer.subscription.updated',
      'invoice.payment_failed',
    ]);
  });

  it('sends events for API changes when asked to, and redelivers an event with the same id', async () => {
    const { local, stripe } = await setup({ sendApiEvents: true });
    const { basic, pro } = await basicAndPro(stripe);
    const { subscription } = await subscribe(local, stripe, basic);
    receiver.clear();
    await stripe.subscriptions.update(subscription.id, { items: [{ id: subscription.items.data[0].id, price: pro.id }], proration_behavior: 'none' });
    await stripe.customers.create({ email: 'not-subscribed@example.com' }); // customer.created: recorded, not sent
    await local.settled();
    const [updated] = receiver.verifiedEvents(stripe);
    expect(receiver.received).toHaveLength(1);
    expect(updated.type).toBe('customer.subscription.updated');
    expect((updated.data.previous_attributes as { items: Stripe.ApiList<Stripe.SubscriptionItem> }).items.data[0].price.id).toBe(basic.id);
    expect((await stripe.events.list({ type: 'customer.created' })).data).toHaveLength(2);

    const again = await local.redeliver(updated.id);
    expect(again.ok).toBe(true);
    expect(receiver.verifiedEvents(stripe).map((event) => event.id)).toEqual([updated.id, updated.id]);
  });

  it('cancels at the period end and immediately', async () => {
    const { local, stripe } = await setup();
    const { basic } = await basicAndPro(stripe);
    const first = await subscribe(local, stripe, basic, 'first@example.com');
    const atPeriodEnd = await stripe.subscriptions.update(first.subscription.id, { cancel_at_period_end: true });
    expect(atPeriodEnd).toMatchObject({ status: 'active', cancel_at_period_end: true, cancel_at: FEB_1, canceled_at: START, ended_at: null });
    await expect(stripe.invoices.createPreview({ subscription: first.subscription.id })).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      code: 'invoice_upcoming_none',
    });
    receiver.clear();
    await local.advanceClock(31 * DAY);
    expect(await stripe.subscriptions.retrieve(first.subscription.id)).toMatchObject({ status: 'canceled', ended_at: FEB_1 });
    expect(receiver.verifiedEvents(stripe).map((event) => event.type)).toEqual(['customer.subscription.deleted']);

    const second = await subscribe(local, stripe, basic, 'second@example.com');
    const canceled = await stripe.subscriptions.cancel(second.subscription.id);
    expect(canceled).toMatchObject({ status: 'canceled', canceled_at: FEB_1, ended_at: FEB_1 });
    await expect(stripe.subscriptions.update(second.subscription.id, { items: [{ id: second.subscription.items.data[0].id, price: basic.id }] })).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
    });
    const active = await stripe.subscriptions.list();
    expect(active.data).toHaveLength(0);
    const all = await stripe.subscriptions.list({ status: 'all' });
    expect(all.data).toHaveLength(2);
  });

  it('lists invoices with filters and cursor pagination', async () => {
    const { local, stripe } = await setup();
    const { basic, pro } = await basicAndPro(stripe);
    const a = await subscribe(local, stripe, basic, 'a@example.com');
    const b = await subscribe(local, stripe, pro, 'b@example.com');
    const c = await subscribe(local, stripe, basic, 'c@example.com');
    const newestFirst = [c.invoice!.id, b.invoice!.id, a.invoice!.id];

    const firstPage = await stripe.invoices.list({ limit: 2 });
    expect(firstPage).toMatchObject({ object: 'list', has_more: true, url: '/v1/invoices' });
    expect(firstPage.data.map((invoice) => invoice.id)).toEqual(newestFirst.slice(0, 2));
    const secondPage = await stripe.invoices.list({ limit: 2, starting_after: firstPage.data[1].id });
    expect(secondPage.has_more).toBe(false);
    expect(secondPage.data.map((invoice) => invoice.id)).toEqual(newestFirst.slice(2));

    const everything: string[] = [];
    for await (const invoice of stripe.invoices.list({ limit: 1 })) everything.push(invoice.id!);
    expect(everything).toEqual(newestFirst);

    expect((await stripe.invoices.list({ customer: b.customer.id })).data.map((invoice) => invoice.id)).toEqual([b.invoice!.id]);
    expect((await stripe.invoices.list({ subscription: a.subscription.id })).data.map((invoice) => invoice.id)).toEqual([a.invoice!.id]);
    expect(await stripe.invoices.retrieve(b.invoice!.id)).toMatchObject({ id: b.invoice!.id, amount_paid: 3000, status: 'paid' });
  });

  it('answers a missing id with resource_missing', async () => {
    const { stripe } = await setup();
    for (const call of [
      () => stripe.subscriptions.retrieve('sub_missing'),
      () => stripe.invoices.retrieve('in_missing'),
      () => stripe.checkout.sessions.retrieve('cs_missing'),
      () => stripe.customers.retrieve('cus_missing'),
    ]) {
      const error = await call().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error).toMatchObject({ code: 'resource_missing', statusCode: 404, param: 'id' });
    }
    await expect(stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: 'price_missing', quantity: 1 }] })).rejects.toMatchObject({
      code: 'resource_missing',
      statusCode: 400,
      param: 'line_items[0][price]',
    });
    await expect(stripe.checkout.sessions.create({ mode: 'subscription' } as Stripe.Checkout.SessionCreateParams)).rejects.toMatchObject({
      code: 'parameter_missing',
      param: 'line_items',
    });
  });

  it('refuses requests without a secret key', async () => {
    const { local } = await setup();
    const wrongKey = new Stripe('pk_test_publishable', { host: '127.0.0.1', port: local.port, protocol: 'http' });
    await expect(wrongKey.customers.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);

    const response = await fetch(`${local.url}/v1/customers`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { type: 'invalid_request_error', message: expect.stringContaining('did not provide an API key') } });
  });

  it('replays a request sent again with the same Idempotency-Key', async () => {
    const { local, stripe } = await setup();
    const first = await stripe.customers.create({ email: 'once@example.com' }, { idempotencyKey: 'create-once' });
    const again = await stripe.customers.create({ email: 'once@example.com' }, { idempotencyKey: 'create-once' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(local.state.customers.size).toBe(1);
    await expect(stripe.customers.create({ email: 'other@example.com' }, { idempotencyKey: 'create-once' })).rejects.toBeInstanceOf(
      Stripe.errors.StripeIdempotencyError,
    );
  });
});
