import type Stripe from 'stripe';
import { route, type Route } from './routing';
import type { BillingEngine, Happening, ItemChange, ProrationBehavior } from './billing';
import { invalidParameter, invalidRequest, noUpcomingInvoice, parameterMissing, resourceMissing } from './errors';
import {
  listObject,
  newCheckoutLineItem,
  newCheckoutSession,
  newCustomer,
  newId,
  newPortalSession,
  newPrice,
  newProduct,
} from './objects';
import { createMetadata, mergeMetadata, type Params } from './params';
import { paginate, type StripeLocalStore } from './store';

/** What a handler may use. */
export interface ApiContext {
  params: Params;
  /** Path parameters (`:id`). */
  path: Record<string, string>;
  store: StripeLocalStore;
  engine: BillingEngine;
  now: () => number;
  baseUrl: string;
  /** Records events for what the request changed (and delivers them when the server sends API events). */
  announce: (happenings: Happening[]) => void;
}

/** What an API endpoint does with a request; its result is the answer's JSON. */
export type ApiHandler = (context: ApiContext) => unknown;

const INTERVALS = ['day', 'week', 'month', 'year'] as const;
const PRORATION_BEHAVIORS = ['create_prorations', 'always_invoice', 'none'] as const;
const SUBSCRIPTION_LIST_STATUSES = [
  'active',
  'all',
  'canceled',
  'ended',
  'incomplete',
  'incomplete_expired',
  'past_due',
  'paused',
  'trialing',
  'unpaid',
] as const;

function customerIdOf(value: string | { id?: string } | null): string | null {
  if (value === null) return null;
  return typeof value === 'string' ? value : (value.id ?? null);
}

// ------------------------------------------------------------------ customers

function createCustomer({ params, store, now, announce }: ApiContext): Stripe.Customer {
  const customer = newCustomer({
    now: now(),
    email: params.string('email'),
    name: params.string('name'),
    description: params.string('description'),
    phone: params.string('phone'),
    metadata: createMetadata(params.metadata()),
  });
  store.customers.set(customer.id, customer);
  announce([{ type: 'customer.created', object: customer }]);
  return customer;
}

function updateCustomer({ params, path, store, announce }: ApiContext): Stripe.Customer {
  const customer = store.customer(path.id);
  const before = JSON.parse(JSON.stringify(customer)) as Stripe.Customer;
  for (const field of ['email', 'name', 'description', 'phone'] as const) {
    const value = params.string(field);
    if (value !== undefined) customer[field] = value === '' ? null : value;
  }
  customer.metadata = mergeMetadata(customer.metadata, params.metadata());
  announce([{ type: 'customer.updated', object: customer, previousAttributes: { metadata: before.metadata } }]);
  return customer;
}

function listCustomers({ params, store }: ApiContext): Stripe.ApiList<Stripe.Customer> {
  const email = params.string('email');
  const customers = [...store.customers.values()].filter((customer) => !email || customer.email === email);
  return paginate(customers, params, '/v1/customers', 'customer');
}

function deleteCustomer({ path, store, announce }: ApiContext): Stripe.DeletedCustomer {
  const customer = store.customer(path.id);
  store.customers.delete(customer.id);
  announce([{ type: 'customer.deleted', object: customer }]);
  return { id: customer.id, object: 'customer', deleted: true };
}

// ------------------------------------------------------------------ products and prices

function createProduct({ params, store, now }: ApiContext): Stripe.Product {
  const product = newProduct({
    now: now(),
    name: params.requiredString('name'),
    description: params.string('description'),
    metadata: createMetadata(params.metadata()),
  });
  const id = params.string('id');
  if (id) {
    if (store.products.has(id)) throw invalidParameter('id', `Product already exists.`, 'resource_already_exists');
    product.id = id;
  }
  store.products.set(product.id, product);
  return product;
}

function createPrice({ params, store, now }: ApiContext): Stripe.Price {
  const t = now();
  const currency = params.requiredString('currency').toLowerCase();
  const unitAmount = params.integer('unit_amount', { min: 0 }) ?? decimalAmount(params);
  if (unitAmount === undefined) throw parameterMissing('unit_amount');
  if (params.string('billing_scheme') === 'tiered' || params.has('tiers') || params.has('custom_unit_amount')) {
    throw invalidRequest('stripe-local supports per-unit prices with unit_amount only (no tiers, no custom amounts).');
  }
  const recurringParams = params.object('recurring');
  const recurring = recurringParams
    ? {
        interval: requiredOneOf(recurringParams, 'interval', INTERVALS),
        intervalCount: recurringParams.integer('interval_count', { min: 1 }) ?? 1,
        trialPeriodDays: recurringParams.integer('trial_period_days', { min: 0 }) ?? null,
      }
    : undefined;
  if (recurringParams?.string('usage_type') === 'metered') throw invalidRequest('stripe-local does not model metered prices.');

  const productId = params.string('product');
  const productData = params.object('product_data');
  let product: Stripe.Product;
  if (productId) {
    product = store.product(productId, 'product');
  } else if (productData) {
    product = newProduct({ now: t, name: productData.requiredString('name'), metadata: createMetadata(productData.metadata()) });
    store.products.set(product.id, product);
  } else {
    throw parameterMissing('product');
  }

  const lookupKey = params.string('lookup_key') || null;
  if (lookupKey) {
    const holder = [...store.prices.values()].find((price) => price.lookup_key === lookupKey);
    if (holder) {
      if (!params.boolean('transfer_lookup_key')) {
        throw invalidParameter('lookup_key', `A price (\`${holder.id}\`) already uses that lookup key.`);
      }
      holder.lookup_key = null;
    }
  }
  const price = newPrice({
    now: t,
    currency,
    unitAmount,
    product: product.id,
    recurring,
    lookupKey,
    nickname: params.string('nickname'),
    active: params.boolean('active') ?? true,
    metadata: createMetadata(params.metadata()),
  });
  store.prices.set(price.id, price);
  if (!product.default_price) product.default_price = price.id;
  return price;
}

function decimalAmount(params: Params): number | undefined {
  const decimal = params.string('unit_amount_decimal');
  if (decimal === undefined) return undefined;
  if (!/^\d+(\.0+)?$/.test(decimal)) throw invalidRequest('stripe-local supports whole-cent unit_amount_decimal only.');
  return Number.parseInt(decimal, 10);
}

function requiredOneOf<T extends string>(params: Params, key: string, values: readonly T[]): T {
  const value = params.oneOf(key, values);
  if (value === undefined) throw parameterMissing(params.name(key));
  return value;
}

function updatePrice({ params, path, store }: ApiContext): Stripe.Price {
  const price = store.price(path.id);
  const active = params.boolean('active');
  if (active !== undefined) price.active = active;
  const nickname = params.string('nickname');
  if (nickname !== undefined) price.nickname = nickname || null;
  const lookupKey = params.string('lookup_key');
  if (lookupKey !== undefined) {
    const holder = [...store.prices.values()].find((other) => other.lookup_key === lookupKey && other.id !== price.id);
    if (holder && lookupKey) {
      if (!params.boolean('transfer_lookup_key')) throw invalidParameter('lookup_key', `A price (\`${holder.id}\`) already uses that lookup key.`);
      holder.lookup_key = null;
    }
    price.lookup_key = lookupKey || null;
  }
  price.metadata = mergeMetadata(price.metadata, params.metadata());
  return price;
}

function listPrices({ params, store }: ApiContext): Stripe.ApiList<Stripe.Price> {
  const lookupKeys = params.strings('lookup_keys');
  const active = params.boolean('active');
  const product = params.string('product');
  const currency = params.string('currency');
  const type = params.oneOf('type', ['one_time', 'recurring'] as const);
  const prices = [...store.prices.values()].filter(
    (price) =>
      (lookupKeys.length === 0 || (price.lookup_key !== null && lookupKeys.includes(price.lookup_key))) &&
      (active === undefined || price.active === active) &&
      (!product || price.product === product) &&
      (!currency || price.currency === currency.toLowerCase()) &&
      (!type || price.type === type),
  );
  return paginate(prices, params, '/v1/prices', 'price');
}

// ------------------------------------------------------------------ checkout

function checkoutPrice(item: Params, store: StripeLocalStore, now: number): Stripe.Price {
  const priceId = item.string('price');
  if (priceId) return store.price(priceId, item.name('price'));
  const data = item.object('price_data');
  if (!data) throw parameterMissing(item.name('price'));
  const productId = data.string('product');
  const productData = data.object('product_data');
  let product: Stripe.Product;
  if (productId) product = store.product(productId, data.name('product'));
  else if (productData) {
    product = newProduct({ now, name: productData.requiredString('name'), metadata: createMetadata(productData.metadata()) });
    store.products.set(product.id, product);
  } else throw parameterMissing(data.name('product'));
  const recurringParams = data.object('recurring');
  const unitAmount = data.integer('unit_amount', { min: 0 });
  if (unitAmount === undefined) throw parameterMissing(data.name('unit_amount'));
  const price = newPrice({
    now,
    currency: data.requiredString('currency').toLowerCase(),
    unitAmount,
    product: product.id,
    recurring: recurringParams
      ? { interval: requiredOneOf(recurringParams, 'interval', INTERVALS), intervalCount: recurringParams.integer('interval_count', { min: 1 }) ?? 1 }
      : undefined,
    active: false,
    metadata: {},
  });
  store.prices.set(price.id, price);
  return price;
}

function createCheckoutSession({ params, store, now, baseUrl }: ApiContext): Stripe.Checkout.Session {
  const t = now();
  const mode = params.oneOf('mode', ['payment', 'subscription', 'setup'] as const);
  if (!mode) throw parameterMissing('mode');
  if (mode === 'setup') throw invalidParameter('mode', 'stripe-local supports mode=payment and mode=subscription.');
  const customerId = params.string('customer') || null;
  const customerEmail = params.string('customer_email') || null;
  if (customerId && customerEmail) {
    throw invalidRequest('You may only specify one of these parameters: customer, customer_email.');
  }
  const customer = customerId ? store.customer(customerId, 'customer') : null;

  const itemParams = params.objects('line_items');
  if (itemParams.length === 0) throw parameterMissing('line_items');
  const lineItems = itemParams.map((item) => {
    const price = checkoutPrice(item, store, t);
    if (mode === 'subscription' && price.type !== 'recurring') {
      throw invalidParameter(item.name('price'), 'stripe-local: in subscription mode every line item needs a recurring price.');
    }
    if (mode === 'payment' && price.type === 'recurring') {
      throw invalidParameter(
        item.name('price'),
        'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.',
      );
    }
    const quantity = item.integer('quantity', { min: 1 }) ?? 1;
    return newCheckoutLineItem(price, quantity, store.productName(price));
  });
  const currency = lineItems[0].currency;
  if (lineItems.some((item) => item.currency !== currency)) throw invalidParameter('line_items', 'All line items must use the same currency.');
  if (mode === 'subscription') {
    const first = lineItems[0].price!.recurring!;
    if (lineItems.some((item) => item.price!.recurring!.interval !== first.interval || item.price!.recurring!.interval_count !== first.interval_count)) {
      throw invalidParameter('line_items', 'Currency and interval fields must match across all plans on this subscription.');
    }
  }

  const subscriptionData = params.object('subscription_data');
  if (subscriptionData && mode !== 'subscription') {
    throw invalidParameter('subscription_data', 'You can only pass in subscription_data in subscription mode.');
  }
  const trialPeriodDays = subscriptionData?.integer('trial_period_days', { min: 1, max: 730 }) ?? null;
  const trialEnd = subscriptionData?.integer('trial_end') ?? null;
  if (trialPeriodDays !== null && trialEnd !== null) {
    throw invalidRequest('You may only specify one of these parameters: subscription_data[trial_end], subscription_data[trial_period_days].');
  }
  if (trialEnd !== null && trialEnd < t + 2 * 86_400) {
    throw invalidParameter('subscription_data[trial_end]', 'The `trial_end` date has to be at least 2 days in the future.');
  }

  const id = newId('cs_test', 58);
  const amount = lineItems.reduce((sum, item) => sum + item.amount_total, 0);
  const trialing = trialPeriodDays !== null || trialEnd !== null;
  const session = newCheckoutSession({
    id,
    now: t,
    mode,
    customer: customer?.id ?? null,
    customerEmail: customerEmail ?? customer?.email ?? null,
    clientReferenceId: params.string('client_reference_id') || null,
    currency,
    amountSubtotal: trialing ? 0 : amount,
    successUrl: params.string('success_url') || null,
    cancelUrl: params.string('cancel_url') || null,
    metadata: createMetadata(params.metadata()),
    url: `${baseUrl}/checkout/${id}`,
    allowPromotionCodes: params.boolean('allow_promotion_codes') ?? null,
  });
  if (!customerEmail && customer) session.customer_email = null;
  store.checkoutSessions.set(id, session);
  store.checkoutLineItems.set(id, lineItems);
  if (mode === 'subscription') {
    store.checkoutSubscriptionData.set(id, {
      trialPeriodDays,
      trialEnd,
      metadata: createMetadata(subscriptionData?.metadata()),
      description: subscriptionData?.string('description') ?? null,
    });
  }
  return session;
}

function listCheckoutSessions({ params, store }: ApiContext): Stripe.ApiList<Stripe.Checkout.Session> {
  const customer = params.string('customer');
  const subscription = params.string('subscription');
  const status = params.oneOf('status', ['open', 'complete', 'expired'] as const);
  const sessions = [...store.checkoutSessions.values()].filter(
    (session) =>
      (!customer || session.customer === customer) &&
      (!subscription || session.subscription === subscription) &&
      (!status || session.status === status),
  );
  return paginate(sessions, params, '/v1/checkout/sessions', 'checkout.session');
}

function checkoutLineItems({ params, path, store }: ApiContext): Stripe.ApiList<Stripe.LineItem> {
  store.checkoutSession(path.id);
  const items = [...(store.checkoutLineItems.get(path.id) ?? [])].reverse(); // listed in the order given
  return paginate(items, params, `/v1/checkout/sessions/${path.id}/line_items`, 'line item');
}

function expireCheckoutSession({ path, store, announce }: ApiContext): Stripe.Checkout.Session {
  const session = store.checkoutSession(path.id);
  if (session.status !== 'open') {
    throw invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`);
  }
  session.status = 'expired';
  session.url = null;
  announce([{ type: 'checkout.session.expired', object: session }]);
  return session;
}

// ------------------------------------------------------------------ billing portal

function createPortalSession({ params, store, now, baseUrl }: ApiContext): Stripe.BillingPortal.Session {
  const customer = store.customer(params.requiredString('customer'), 'customer');
  const session = newPortalSession({
    now: now(),
    customer: customer.id,
    returnUrl: params.string('return_url') || null,
    locale: (params.string('locale') as Stripe.BillingPortal.Session.Locale | undefined) ?? null,
    baseUrl,
  });
  store.portalSessions.set(session.id, session);
  return session;
}

// ------------------------------------------------------------------ subscriptions

function itemChanges(list: Params[]): ItemChange[] {
  return list.map((item) => ({
    id: item.string('id') || undefined,
    price: item.string('price') || undefined,
    quantity: item.integer('quantity', { min: 0 }),
    deleted: item.boolean('deleted'),
    metadata: item.metadata() ?? undefined,
  }));
}

function createSubscription({ params, store, engine, announce }: ApiContext): Stripe.Subscription {
  const customer = store.customer(params.requiredString('customer'), 'customer');
  const items = params.objects('items');
  if (items.length === 0) throw parameterMissing('items');
  const trialEndParam = params.string('trial_end');
  const result = engine.createSubscription({
    customer,
    items: items.map((item) => ({
      price: store.price(item.requiredString('price'), item.name('price')),
      quantity: item.integer('quantity', { min: 1 }) ?? 1,
      metadata: createMetadata(item.metadata()),
    })),
    trialPeriodDays: params.integer('trial_period_days', { min: 0, max: 730 }),
    trialEnd: trialEndParam && trialEndParam !== 'now' ? params.integer('trial_end') : null,
    metadata: createMetadata(params.metadata()),
    description: params.string('description'),
  });
  announce(result.happenings);
  return result.subscription;
}

function listSubscriptions({ params, store }: ApiContext): Stripe.ApiList<Stripe.Subscription> {
  const customer = params.string('customer');
  const price = params.string('price');
  const status = params.oneOf('status', SUBSCRIPTION_LIST_STATUSES);
  const subscriptions = [...store.subscriptions.values()].filter(
    (subscription) =>
      (!customer || subscription.customer === customer) &&
      (!price || subscription.items.data.some((item) => item.price.id === price)) &&
      (status === 'all'
        ? true
        : status === 'ended'
          ? subscription.status === 'canceled' || subscription.status === 'incomplete_expired'
          : status
            ? subscription.status === status
            : subscription.status !== 'canceled' && subscription.status !== 'incomplete_expired'),
  );
  return paginate(subscriptions, params, '/v1/subscriptions', 'subscription');
}

function updateSubscription({ params, path, store, engine, announce }: ApiContext): Stripe.Subscription {
  const subscription = store.subscription(path.id);
  const items = params.has('items') ? itemChanges(params.objects('items')) : undefined;
  const trialEndRaw = params.string('trial_end');
  const cancelAtRaw = params.string('cancel_at');
  const metadataUpdate = params.metadata();
  const result = engine.updateSubscription(subscription, {
    items,
    prorationBehavior: params.oneOf('proration_behavior', PRORATION_BEHAVIORS) as ProrationBehavior | undefined,
    prorationDate: params.integer('proration_date'),
    cancelAtPeriodEnd: params.boolean('cancel_at_period_end'),
    cancelAt: cancelAtRaw === undefined ? undefined : cancelAtRaw === '' ? null : params.integer('cancel_at'),
    metadata: metadataUpdate === undefined ? undefined : mergeMetadata(subscription.metadata, metadataUpdate),
    trialEnd: trialEndRaw === undefined ? undefined : trialEndRaw === 'now' ? 'now' : params.integer('trial_end'),
    description: params.has('description') ? params.string('description') || null : undefined,
  });
  announce(result.happenings);
  return result.subscription;
}

function cancelSubscription({ path, store, engine, announce }: ApiContext): Stripe.Subscription {
  const subscription = store.subscription(path.id);
  announce(engine.cancel(subscription));
  return subscription;
}

// ------------------------------------------------------------------ invoices

function subscriptionOfInvoice(invoice: Stripe.Invoice): string | null {
  const subscription = invoice.parent?.subscription_details?.subscription ?? null;
  return typeof subscription === 'string' || subscription === null ? subscription : subscription.id;
}

function listInvoices({ params, store }: ApiContext): Stripe.ApiList<Stripe.Invoice> {
  const customer = params.string('customer');
  const subscription = params.string('subscription');
  const status = params.oneOf('status', ['draft', 'open', 'paid', 'uncollectible', 'void'] as const);
  const invoices = [...store.invoices.values()].filter(
    (invoice) =>
      (!customer || customerIdOf(invoice.customer) === customer) &&
      (!subscription || subscriptionOfInvoice(invoice) === subscription) &&
      (!status || invoice.status === status),
  );
  return paginate(invoices, params, '/v1/invoices', 'invoice');
}

function invoiceLines({ params, path, store }: ApiContext): Stripe.ApiList<Stripe.InvoiceLineItem> {
  const invoice = store.invoice(path.id);
  return paginate([...invoice.lines.data].reverse(), params, `/v1/invoices/${invoice.id}/lines`, 'line item');
}

function previewInvoice({ params, store, engine }: ApiContext): Stripe.Invoice {
  const customerId = params.string('customer');
  const subscriptionId = params.string('subscription');
  if (!customerId && !subscriptionId) throw parameterMissing('customer');
  let subscription = subscriptionId ? store.subscription(subscriptionId, 'subscription') : undefined;
  if (customerId) {
    const customer = store.customer(customerId, 'customer');
    if (subscription && subscription.customer !== customer.id) {
      throw invalidParameter('subscription', `The subscription ${subscription.id} does not belong to customer ${customer.id}.`);
    }
    subscription ??= [...store.subscriptions.values()]
      .reverse()
      .find((candidate) => candidate.customer === customer.id && candidate.status !== 'canceled' && candidate.status !== 'incomplete_expired');
    if (!subscription) throw noUpcomingInvoice(customer.id);
  }
  const details = params.object('subscription_details');
  return engine.preview(subscription!, {
    items: details?.has('items') ? itemChanges(details.objects('items')) : undefined,
    prorationBehavior: details?.oneOf('proration_behavior', PRORATION_BEHAVIORS),
    prorationDate: details?.integer('proration_date'),
    cancelAtPeriodEnd: details?.boolean('cancel_at_period_end'),
  });
}

function listInvoiceItems({ params, store }: ApiContext): Stripe.ApiList<Stripe.InvoiceItem> {
  const customer = params.string('customer');
  const pending = params.boolean('pending');
  const invoice = params.string('invoice');
  const items = [...store.invoiceItems.values()].filter(
    (item) =>
      (!customer || item.customer === customer) &&
      (pending === undefined || (item.invoice === null) === pending) &&
      (!invoice || item.invoice === invoice),
  );
  return paginate(items, params, '/v1/invoiceitems', 'invoiceitem');
}

// ------------------------------------------------------------------ events

function listEvents({ params, store }: ApiContext) {
  const type = params.string('type');
  const types = params.strings('types');
  const matches = (eventType: string) => {
    if (types.length > 0) return types.includes(eventType);
    if (!type) return true;
    return type.endsWith('*') ? eventType.startsWith(type.slice(0, -1)) : eventType === type;
  };
  return paginate([...store.events.values()].filter((event) => matches(event.type)), params, '/v1/events', 'event');
}

function retrieve<T>(lookup: (store: StripeLocalStore, id: string) => T) {
  return ({ path, store }: ApiContext) => lookup(store, path.id);
}

export const routes: Route<ApiHandler>[] = [
  route('POST', '/v1/customers', createCustomer),
  route('GET', '/v1/customers', listCustomers),
  route('GET', '/v1/customers/:id', retrieve((store, id) => store.customer(id))),
  route('POST', '/v1/customers/:id', updateCustomer),
  route('DELETE', '/v1/customers/:id', deleteCustomer),

  route('POST', '/v1/products', createProduct),
  route('GET', '/v1/products', ({ params, store }) => paginate(store.products.values(), params, '/v1/products', 'product')),
  route('GET', '/v1/products/:id', retrieve((store, id) => store.product(id))),

  route('POST', '/v1/prices', createPrice),
  route('GET', '/v1/prices', listPrices),
  route('GET', '/v1/prices/:id', retrieve((store, id) => store.price(id))),
  route('POST', '/v1/prices/:id', updatePrice),

  route('POST', '/v1/checkout/sessions', createCheckoutSession),
  route('GET', '/v1/checkout/sessions', listCheckoutSessions),
  route('GET', '/v1/checkout/sessions/:id', retrieve((store, id) => store.checkoutSession(id))),
  route('GET', '/v1/checkout/sessions/:id/line_items', checkoutLineItems),
  route('POST', '/v1/checkout/sessions/:id/expire', expireCheckoutSession),

  route('POST', '/v1/billing_portal/sessions', createPortalSession),

  route('POST', '/v1/subscriptions', createSubscription),
  route('GET', '/v1/subscriptions', listSubscriptions),
  route('GET', '/v1/subscriptions/:id', retrieve((store, id) => store.subscription(id))),
  route('POST', '/v1/subscriptions/:id', updateSubscription),
  route('DELETE', '/v1/subscriptions/:id', cancelSubscription),
  route('GET', '/v1/subscription_items/:id', retrieve((store, id) => store.subscriptionItem(id))),

  route('POST', '/v1/invoices/create_preview', previewInvoice),
  route('GET', '/v1/invoices', listInvoices),
  route('GET', '/v1/invoices/:id', retrieve((store, id) => store.invoice(id))),
  route('GET', '/v1/invoices/:id/lines', invoiceLines),
  route('GET', '/v1/invoiceitems', listInvoiceItems),

  route('GET', '/v1/events', listEvents),
  route('GET', '/v1/events/:id', ({ path, store }) => {
    const event = store.events.get(path.id);
    if (!event) throw resourceMissing('event', path.id);
    return event;
  }),
];

/** The listed line items of a checkout session, for `expand[]=line_items`. */
export function checkoutLineItemList(store: StripeLocalStore, sessionId: string): Stripe.ApiList<Stripe.LineItem> {
  return listObject(store.checkoutLineItems.get(sessionId) ?? [], `/v1/checkout/sessions/${sessionId}/line_items`);
}
