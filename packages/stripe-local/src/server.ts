import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { checkoutLineItemList, routes, type ApiContext } from './api';
import { BillingEngine, snapshot, type Happening } from './billing';
import { StripeApiError, invalidRequest, resourceMissing, type StripeErrorBody } from './errors';
import { EventDispatcher } from './events';
import { parseStripeForm, type FormObject } from './form';
import { API_VERSION, newCustomer, newId, type LocalEvent, type LocalInvoice, type LocalSubscription } from './objects';
import { Params } from './params';
import { findRoute, route, type Route } from './routing';
import { StripeLocalStore, type WebhookDelivery } from './store';

/**
 * The events a webhook endpoint subscribes to by default: what billing's sidecar handles (contract/README.md).
 * Other events are still recorded and served by /v1/events; `emit` sends any type.
 */
export const DEFAULT_ENABLED_EVENTS: readonly string[] = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.trial_will_end',
  'invoice.paid',
  'invoice.payment_failed',
];

/** Used when no webhook secret is given; print it, and give the same to billing's STRIPE_WEBHOOK_SECRET. */
export const DEFAULT_WEBHOOK_SECRET = 'whsec_stripe_local_development_only';

const MAX_BODY_BYTES = 1024 * 1024;

export interface StripeLocalOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Where signed events are POSTed (billing's `/webhooks/stripe`); without it events are only recorded. */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Event types the webhook endpoint subscribes to (default DEFAULT_ENABLED_EVENTS); '*' for all. */
  enabledEvents?: readonly string[] | '*';
  /** The time Stripe lives in; `advanceClock` moves it further. Defaults to the system clock. */
  clock?: () => Date;
  /**
   * Also send the events Stripe sends for changes made through the API (`customer.subscription.updated` after an
   * update, `customer.subscription.deleted` after a cancel, …), in the background. Off by default so a test decides
   * what reaches the webhook; `pnpm stripe:local` turns it on. Checkout completion and the clock always send.
   */
  sendApiEvents?: boolean;
  log?: (line: string) => void;
}

export interface CheckoutCompletion {
  session: Stripe.Checkout.Session;
  customer: Stripe.Customer | null;
  subscription: LocalSubscription | null;
  invoice: LocalInvoice | null;
  events: LocalEvent[];
  deliveries: WebhookDelivery[];
}

export interface ClockAdvance {
  /** The new time, unix seconds. */
  now: number;
  events: LocalEvent[];
  deliveries: WebhookDelivery[];
}

export interface StripeLocal {
  /** `http://127.0.0.1:<port>`: give it to billing as STRIPE_API_BASE. */
  url: string;
  port: number;
  webhookSecret: string;
  /** Everything the stand-in holds, readable by tests. */
  state: StripeLocalStore;
  /** Stripe's current time, unix seconds (the clock plus every `advanceClock`). */
  now(): number;
  stop(): Promise<void>;
  /** Acts out a customer paying on the hosted page; sends `checkout.session.completed`, then the subscription's events. */
  completeCheckout(sessionId: string): Promise<CheckoutCompletion>;
  /** Sends any signed event; `object` may be a stored object's id (`sub_…`), which sends its current state. */
  emit(type: string, object: unknown, previousAttributes?: Record<string, unknown>): Promise<{ event: LocalEvent; delivery: WebhookDelivery }>;
  /** Sends an already sent event again, same id (Stripe's retries and duplicates). */
  redeliver(eventId: string): Promise<WebhookDelivery>;
  /** Moves Stripe's time forward and acts out what falls due: trial notices, trial ends, renewals, scheduled cancels. */
  advanceClock(seconds: number): Promise<ClockAdvance>;
  /** The customer's next charge fails (`invoice.payment_failed`, subscription `past_due`). */
  failNextPayment(customerId: string): void;
  /** Resolves when every queued webhook delivery has been attempted. */
  settled(): Promise<void>;
  /** The `Stripe-Signature` header for a payload, signed with this stand-in's secret. */
  sign(payload: string): string;
  /** Where events go from now on (for a sidecar that starts after the stand-in). */
  setWebhookUrl(url: string): void;
}

interface IdempotentResponse {
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
}

interface HttpAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

function json(status: number, value: unknown): HttpAnswer {
  return { status, body: JSON.stringify(value, null, 2), headers: { 'Content-Type': 'application/json' } };
}

function errorAnswer(error: StripeApiError): HttpAnswer {
  return json(error.status, error.toJSON());
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new StripeApiError(413, { type: 'invalid_request_error', message: 'Request body too large.' }));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** The API key from `Authorization: Bearer sk_…` (or Basic with the key as user name), or a 401 in Stripe's shape. */
function apiKeyOf(request: IncomingMessage): string {
  const header = request.headers.authorization;
  if (!header) {
    throw new StripeApiError(401, {
      type: 'invalid_request_error',
      message:
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    });
  }
  let key = '';
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme.toLowerCase() === 'bearer') key = value.trim();
  else if (scheme.toLowerCase() === 'basic') key = Buffer.from(value, 'base64').toString('utf8').split(':')[0];
  if (!/^(sk|rk)_(test|live)_\S+$/.test(key) && !/^sk_\S+$/.test(key)) {
    const shown = key.length > 8 ? `${key.slice(0, 8)}${'*'.repeat(Math.min(key.length - 8, 24))}` : key || '(empty)';
    throw new StripeApiError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${shown}` });
  }
  return key;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): HttpAnswer {
  return {
    status: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1.5rem}td{padding:.2rem .8rem}</style>
</head><body><p><small>stripe-local (test mode)</small></p>${body}</body></html>`,
  };
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency.toUpperCase()}`;

function redirect(location: string): HttpAnswer {
  return { status: 303, body: '', headers: { Location: location } };
}

export async function startStripeLocal(options: StripeLocalOptions = {}): Promise<StripeLocal> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const webhookSecret = options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET;
  let offsetSeconds = 0;
  let baseUrl = '';
  const now = () => Math.floor(clock().getTime() / 1000) + offsetSeconds;

  const store = new StripeLocalStore();
  const engine = new BillingEngine(store, now, () => baseUrl);
  const webhook = { url: options.webhookUrl, secret: webhookSecret, enabledEvents: options.enabledEvents ?? DEFAULT_ENABLED_EVENTS };
  const dispatcher = new EventDispatcher(store, now, webhook, log);
  const idempotent = new Map<string, IdempotentResponse>();

  /** Acts out whatever fell due since the last look (renewals, trial ends) and sends its events in the background. */
  function catchUp(): void {
    const happenings = engine.catchUp();
    if (happenings.length > 0) void dispatcher.deliverEnabled(dispatcher.record(happenings));
  }

  function announceFor(request: { id: string; idempotencyKey: string | null }) {
    return (happenings: Happening[]) => {
      if (happenings.length === 0) return;
      const events = dispatcher.record(happenings, request);
      if (options.sendApiEvents) void dispatcher.deliverEnabled(events);
      else for (const event of events) event.pending_webhooks = 0;
    };
  }

  function expand(value: unknown, paths: string[]): void {
    const walk = (node: unknown, segments: string[]): void => {
      if (!node || typeof node !== 'object' || segments.length === 0) return;
      const record = node as Record<string, unknown>;
      const [head, ...rest] = segments;
      if (record.object === 'list' && Array.isArray(record.data) && head === 'data') {
        for (const item of record.data) walk(item, rest);
        return;
      }
      if (head === 'line_items' && record.object === 'checkout.session' && typeof record.id === 'string') {
        record.line_items = snapshot(checkoutLineItemList(store, record.id));
      } else if (typeof record[head] === 'string') {
        const found = store.lookup(record[head] as string);
        if (found) record[head] = snapshot(found);
      }
      walk(record[head], rest);
    };
    for (const path of paths) walk(value, path.split('.').slice(0, 4));
  }

  async function handleApi(request: IncomingMessage, url: URL, rawBody: string, requestId: string): Promise<HttpAnswer> {
    const method = request.method ?? 'GET';
    const apiKey = apiKeyOf(request);
    if (rawBody && /json/i.test(request.headers['content-type'] ?? '')) {
      throw invalidRequest('Invalid request: the Stripe API takes form-encoded bodies (application/x-www-form-urlencoded), not JSON.');
    }
    const idempotencyKey = (request.headers['idempotency-key'] as string | undefined) ?? null;
    const idempotencySlot = idempotencyKey && (method === 'POST' || method === 'DELETE') ? `${apiKey}\u0000${idempotencyKey}` : null;
    const fingerprint = `${method} ${url.pathname}?${url.search} ${rawBody}`;
    if (idempotencySlot) {
      const previous = idempotent.get(idempotencySlot);
      if (previous) {
        if (previous.fingerprint !== fingerprint) {
          throw new StripeApiError(400, {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          });
        }
        return {
          status: previous.status,
          body: previous.body,
          headers: { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true', 'Original-Request': previous.requestId },
        };
      }
    }

    const form: FormObject = { ...parseStripeForm(url.search.slice(1)), ...parseStripeForm(rawBody) };
    const params = new Params(form);
    catchUp();

    let answer: HttpAnswer;
    try {
      const matched = findRoute(routes, method, url.pathname.replace(/\/+$/, ''));
      if (!matched) {
        throw new StripeApiError(404, {
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${method}: ${url.pathname}). stripe-local serves the endpoints listed in packages/stripe-local/README.md.`,
        });
      }
      const context: ApiContext = {
        params,
        path: matched.path,
        store,
        engine,
        now,
        baseUrl,
        announce: announceFor({ id: requestId, idempotencyKey }),
      };
      const result = snapshot(matched.handler(context));
      expand(result, params.strings('expand'));
      answer = json(200, result);
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      answer = errorAnswer(error);
    }
    if (idempotencySlot && answer.status < 500) {
      idempotent.set(idempotencySlot, { fingerprint, status: answer.status, body: answer.body, requestId });
    }
    return answer;
  }

  async function completeCheckout(sessionId: string): Promise<CheckoutCompletion> {
    catchUp();
    const session = store.checkoutSession(sessionId);
    if (session.status !== 'open') {
      throw invalidRequest(`This Checkout Session is ${session.status} and cannot be completed: ${session.id}`);
    }
    const t = now();
    let customer = session.customer ? store.customer(session.customer as string) : null;
    if (!customer && session.mode === 'subscription') {
      customer = newCustomer({ now: t, email: session.customer_email, metadata: {} });
      store.customers.set(customer.id, customer);
    }
    if (customer) {
      session.customer = customer.id;
      session.customer_details = {
        address: null,
        email: customer.email,
        name: customer.name ?? null,
        phone: customer.phone ?? null,
        tax_exempt: 'none',
        tax_ids: [],
      };
    }
    let subscription: LocalSubscription | null = null;
    let invoice: LocalInvoice | null = null;
    const happenings: Happening[] = [];
    if (session.mode === 'subscription') {
      const data = store.checkoutSubscriptionData.get(session.id)!;
      const lineItems = store.checkoutLineItems.get(session.id) ?? [];
      const created = engine.createSubscription({
        customer: customer!,
        items: lineItems.map((item) => ({ price: item.price!, quantity: item.quantity ?? 1 })),
        trialPeriodDays: data.trialPeriodDays,
        trialEnd: data.trialEnd,
        metadata: data.metadata,
        description: data.description,
        itemsParam: 'line_items',
        paymentSucceeds: true,
      });
      subscription = created.subscription;
      invoice = created.invoice;
      session.subscription = subscription.id;
      session.invoice = invoice?.id ?? null;
      session.payment_status = invoice && invoice.amount_paid > 0 ? 'paid' : 'no_payment_required';
      happenings.push(...created.happenings);
    } else {
      session.payment_intent = newId('pi');
      session.payment_status = 'paid';
    }
    session.status = 'complete';
    session.url = null;
    happenings.unshift({ type: 'checkout.session.completed', object: session });
    const events = dispatcher.record(happenings);
    const deliveries = await dispatcher.deliverEnabled(events);
    return {
      session: snapshot(session),
      customer: customer ? snapshot(customer) : null,
      subscription: subscription ? snapshot(subscription) : null,
      invoice: invoice ? snapshot(invoice) : null,
      events,
      deliveries,
    };
  }

  async function emit(type: string, object: unknown, previousAttributes?: Record<string, unknown>) {
    const resolved = typeof object === 'string' ? store.lookup(object) : object;
    if (resolved === undefined) throw invalidRequest(`stripe-local has no object with id ${String(object)} to send.`);
    const [event] = dispatcher.record([{ type, object: resolved, previousAttributes }]);
    const [delivery] = await dispatcher.deliver([event]);
    return { event, delivery };
  }

  async function redeliver(eventId: string): Promise<WebhookDelivery> {
    const event = store.events.get(eventId);
    if (!event) throw resourceMissing('event', eventId);
    const [delivery] = await dispatcher.deliver([event]);
    return delivery;
  }

  async function advanceClock(seconds: number): Promise<ClockAdvance> {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('advanceClock: seconds must be a non-negative number');
    offsetSeconds += Math.floor(seconds);
    const events = dispatcher.record(engine.catchUp());
    const deliveries = await dispatcher.deliverEnabled(events);
    return { now: now(), events, deliveries };
  }

  /** A page or action of the stand-in itself (outside /v1): what tests and a developer's browser call. */
  type LocalHandler = (request: { params: Params; path: Record<string, string> }) => HttpAnswer | Promise<HttpAnswer>;

  const health: LocalHandler = () => json(200, { status: 'ok', service: 'stripe-local', api_version: API_VERSION, now: now(), webhook_url: webhook.url ?? null });
  const invoicePage: LocalHandler = ({ path }) => {
    const invoice = store.invoice(path.id);
    const rows = invoice.lines.data
      .map((line) => `<tr><td>${escapeHtml(line.description ?? '')}</td><td>${money(line.amount, line.currency)}</td></tr>`)
      .join('');
    const due = `Amount due ${money(invoice.amount_due, invoice.currency)} (${escapeHtml(invoice.status ?? '')})`;
    return page(`Invoice ${invoice.number ?? invoice.id}`, `<h1>Invoice ${escapeHtml(invoice.number ?? '')}</h1><table>${rows}</table><p>${due}</p>`);
  };

  const localRoutes: Route<LocalHandler>[] = [
    route('GET', '/', health),
    route('GET', '/health', health),
    route('POST', '/_local/checkout/sessions/:id/complete', async ({ path }) => json(200, await completeCheckout(path.id))),
    route('POST', '/_local/clock/advance', async ({ params }) => {
      const seconds = params.integer('seconds', { min: 0 }) ?? (params.integer('days', { min: 0 }) ?? 0) * 86_400;
      return json(200, await advanceClock(seconds));
    }),
    route('POST', '/_local/events/:id/redeliver', async ({ path }) => json(200, await redeliver(path.id))),
    route('POST', '/_local/events', async ({ params }) => json(200, await emit(params.requiredString('type'), params.requiredString('object')))),
    route('POST', '/_local/customers/:id/fail_next_payment', ({ path }) => {
      store.customer(path.id);
      store.failingCustomers.add(path.id);
      return json(200, { customer: path.id, fail_next_payment: true });
    }),
    route('GET', '/_local/deliveries', () => json(200, { deliveries: store.deliveries })),
    route('GET', '/checkout/:id', ({ path }) => {
      const session = store.checkoutSession(path.id);
      const items = store.checkoutLineItems.get(session.id) ?? [];
      const rows = items
        .map((item) => `<tr><td>${item.quantity} × ${escapeHtml(item.description ?? '')}</td><td>${money(item.amount_total, item.currency)}</td></tr>`)
        .join('');
      const trial = store.checkoutSubscriptionData.get(session.id);
      const trialText = trial?.trialPeriodDays ? `<p>${trial.trialPeriodDays}-day free trial</p>` : '';
      const actions =
        session.status === 'open'
          ? `<form method="post" action="/checkout/${session.id}/pay"><button>Pay (test mode)</button></form><p><a href="/checkout/${session.id}/cancel">Cancel</a></p>`
          : `<p>This session is ${escapeHtml(session.status ?? '')}.</p>`;
      return page('Checkout', `<h1>Checkout</h1><table>${rows}</table>${trialText}${actions}`);
    }),
    route('POST', '/checkout/:id/pay', async ({ path }) => {
      const completion = await completeCheckout(path.id);
      const success = completion.session.success_url;
      return redirect(success ? success.replace('{CHECKOUT_SESSION_ID}', completion.session.id) : `/checkout/${completion.session.id}`);
    }),
    route('GET', '/checkout/:id/cancel', ({ path }) => {
      const session = store.checkoutSession(path.id);
      return session.cancel_url ? redirect(session.cancel_url) : page('Checkout', '<p>Checkout canceled.</p>');
    }),
    route('GET', '/billing_portal/:id', ({ path }) => {
      const session = store.portalSessions.get(path.id);
      if (!session) throw resourceMissing('billing_portal.session', path.id);
      const subscriptions = [...store.subscriptions.values()].filter((subscription) => subscription.customer === session.customer);
      const rows = subscriptions
        .map(
          (subscription) =>
            `<tr><td>${escapeHtml(subscription.id)}</td><td>${escapeHtml(subscription.status)}</td><td>${subscription.items.data
              .map((item) => escapeHtml(store.productName(item.price)))
              .join(', ')}</td><td>${subscription.cancel_at_period_end ? 'cancels at period end' : ''}</td></tr>`,
        )
        .join('');
      const back = session.return_url ? `<p><a href="${escapeHtml(session.return_url)}">Return</a></p>` : '';
      return page('Billing portal', `<h1>Billing portal</h1><p>Customer ${escapeHtml(session.customer)}</p><table>${rows}</table>${back}`);
    }),
    route('GET', '/invoices/:id', invoicePage),
    route('GET', '/invoices/:id/pdf', invoicePage),
  ];

  async function handleLocal(request: IncomingMessage, url: URL, rawBody: string): Promise<HttpAnswer> {
    const method = request.method ?? 'GET';
    const matched = findRoute(localRoutes, method, url.pathname.replace(/\/+$/, '') || '/');
    if (!matched) throw new StripeApiError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${url.pathname}).` });
    const params = new Params({ ...parseStripeForm(url.search.slice(1)), ...parseStripeForm(rawBody) });
    return matched.handler({ params, path: matched.path });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = newId('req', 14);
    let answer: HttpAnswer;
    try {
      const url = new URL(request.url ?? '/', 'http://stripe-local');
      const rawBody = await readBody(request);
      answer = url.pathname.startsWith('/v1/')
        ? await handleApi(request, url, rawBody, requestId)
        : await handleLocal(request, url, rawBody);
    } catch (error) {
      if (error instanceof StripeApiError) {
        answer = errorAnswer(error);
      } else {
        log(`stripe-local: internal error: ${(error as Error).stack ?? String(error)}`);
        const body: StripeErrorBody = { error: { type: 'api_error', message: `stripe-local internal error: ${(error as Error).message}` } };
        answer = json(500, body);
      }
    }
    const idempotencyKey = request.headers['idempotency-key'];
    response.writeHead(answer.status, {
      'Request-Id': answer.headers?.['Original-Request'] ?? requestId,
      'Stripe-Version': (request.headers['stripe-version'] as string | undefined) ?? API_VERSION,
      ...(typeof idempotencyKey === 'string' ? { 'Idempotency-Key': idempotencyKey } : {}),
      ...Object.fromEntries(Object.entries(answer.headers ?? {}).filter(([name]) => name !== 'Original-Request')),
    });
    response.end(answer.body);
  }

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${publicHost}:${port}`;

  let stopped: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    webhookSecret,
    state: store,
    now,
    completeCheckout,
    emit,
    redeliver,
    advanceClock,
    failNextPayment(customerId: string) {
      store.customer(customerId);
      store.failingCustomers.add(customerId);
    },
    settled: () => dispatcher.settled(),
    sign: (payload: string) => dispatcher.sign(payload),
    setWebhookUrl(url: string) {
      webhook.url = url;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        dispatcher.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => dispatcher.settled());
      return stopped;
    },
  };
}
