import Stripe from 'stripe';
import { snapshot, type Happening } from './billing';
import { API_VERSION, newId, type LocalEvent } from './objects';
import type { StripeLocalStore, WebhookDelivery } from './store';

/**
 * Turns happenings into Stripe events (stored, served by /v1/events) and delivers them to the webhook URL one after
 * another, each signed like Stripe signs (`Stripe-Signature: t=…,v1=…`, made by `generateTestHeaderString`).
 */
export class EventDispatcher {
  /** Deliveries run one at a time, in the order events were created. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Aborts deliveries in flight when the stand-in stops. */
  private readonly closing = new AbortController();

  constructor(
    private readonly store: StripeLocalStore,
    private readonly now: () => number,
    private readonly webhook: { url?: string; secret: string; enabledEvents: readonly string[] | '*' },
    private readonly log: (line: string) => void,
  ) {}

  /** Records an event for each happening (object snapshotted now). */
  record(happenings: Happening[], request: { id: string | null; idempotencyKey: string | null } = { id: null, idempotencyKey: null }): LocalEvent[] {
    return happenings.map((happening) => {
      const event: LocalEvent = {
        id: newId('evt'),
        object: 'event',
        api_version: API_VERSION,
        created: happening.at ?? this.now(),
        data: {
          object: snapshot(happening.object),
          ...(happening.previousAttributes && Object.keys(happening.previousAttributes).length > 0
            ? { previous_attributes: snapshot(happening.previousAttributes) }
            : {}),
        },
        livemode: false,
        pending_webhooks: this.webhook.url ? 1 : 0,
        request: { id: request.id, idempotency_key: request.idempotencyKey },
        type: happening.type,
      };
      this.store.events.set(event.id, event);
      return event;
    });
  }

  /** Whether the webhook endpoint subscribes to this event type (Stripe sends an endpoint only its enabled events). */
  enabled(type: string): boolean {
    return this.webhook.enabledEvents === '*' || this.webhook.enabledEvents.includes(type);
  }

  /** Delivers the events whose type the endpoint subscribes to; the others stay recorded only. */
  deliverEnabled(events: LocalEvent[]): Promise<WebhookDelivery[]> {
    const enabled = events.filter((event) => this.enabled(event.type));
    for (const event of events) if (!this.enabled(event.type)) event.pending_webhooks = 0;
    return this.deliver(enabled);
  }

  /** Queues the events for delivery (in order, after anything already queued) and resolves with their deliveries. */
  deliver(events: LocalEvent[]): Promise<WebhookDelivery[]> {
    const run = this.queue.then(async () => {
      const deliveries: WebhookDelivery[] = [];
      for (const event of events) deliveries.push(await this.send(event));
      return deliveries;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every queued delivery has been attempted. */
  async settled(): Promise<void> {
    for (;;) {
      const current = this.queue;
      await current;
      if (current === this.queue) return;
    }
  }

  /** Stops delivering: requests in flight are aborted, later ones are recorded as not sent. */
  close(): void {
    this.closing.abort();
  }

  /** Signs a payload the way Stripe does; exported for tests that build their own requests. */
  sign(payload: string): string {
    return Stripe.webhooks.generateTestHeaderString({ payload, secret: this.webhook.secret });
  }

  private async send(event: LocalEvent): Promise<WebhookDelivery> {
    const url = this.webhook.url;
    if (!url || this.closing.signal.aborted) {
      const error = url ? 'stripe-local stopped' : 'no webhook URL configured';
      const delivery: WebhookDelivery = { eventId: event.id, type: event.type, url: url ?? '', status: null, ok: false, error };
      this.store.deliveries.push(delivery);
      return delivery;
    }
    const payload = JSON.stringify(event, null, 2);
    let delivery: WebhookDelivery;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Stripe-Signature': this.sign(payload),
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        },
        body: payload,
        signal: AbortSignal.any([AbortSignal.timeout(30_000), this.closing.signal]),
      });
      const responseBody = await response.text();
      delivery = { eventId: event.id, type: event.type, url, status: response.status, ok: response.ok, responseBody };
    } catch (error) {
      const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message;
      const message = reason ? `${(error as Error).message} (${reason})` : (error as Error).message;
      delivery = { eventId: event.id, type: event.type, url, status: null, ok: false, error: message };
    }
    if (delivery.ok) event.pending_webhooks = 0;
    this.store.deliveries.push(delivery);
    this.log(`webhook ${event.type} ${event.id} → ${delivery.status ?? delivery.error}`);
    return delivery;
  }
}
