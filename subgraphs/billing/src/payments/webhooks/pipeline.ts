import type { Logger } from '@tiergraph/runtime';
import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { handlers, unhandledEvent, type BoundHandler, type WebhookEvent } from './handlers';
import { verifyStripeEvent, type WebhookAnswer } from './verify';
import { WebhookStore } from './webhook-store';

export interface PipelineDependencies {
  dataSource: DataSource;
  logger: Logger;
  stripe: Stripe | null;
  webhookSecret: string | undefined;
}

const failed: WebhookAnswer = { status: 500, body: { error: 'processing the event failed; nothing was written, a retry processes it again' } };

/**
 * One delivery of POST /webhooks/stripe: verify → context → idempotency → dispatch → the event type's handler.
 * Idempotency and the handler's effect share one transaction: the event is recorded if and only if its effect is.
 */
export async function processStripeWebhook(request: { body: unknown; signature: string | undefined }, deps: PipelineDependencies): Promise<WebhookAnswer> {
  // verify: signature, timestamp, shape
  const verified = verifyStripeEvent(request.body, request.signature, deps.webhookSecret);
  if (!verified.ok) return verified.answer;
  const event: WebhookEvent = { id: verified.event.id, type: verified.event.type, time: new Date(verified.event.created * 1000) };
  const logger = deps.logger.child({ stripeEventId: event.id, stripeEventType: event.type });

  // context: the handler of the type, its object parsed, what it needs from Stripe loaded (outside the transaction)
  const parsed = (handlers.get(event.type) ?? unhandledEvent).parse(verified.event.data.object);
  if (!parsed.ok) return { status: 400, body: { error: `the body is not a Stripe ${event.type} event (${parsed.error})` } };
  let handle: BoundHandler;
  try {
    handle = await parsed.load(deps.stripe);
  } catch (error) {
    logger.error({ err: error }, 'reading from Stripe for a webhook failed');
    return failed;
  }

  try {
    const result = await deps.dataSource.transaction(async (manager) => {
      const store = new WebhookStore(manager);
      // idempotency: a concurrent delivery of the same event waits here until this transaction ends
      if (!(await store.recordEvent(event))) return { duplicate: true, outcome: 'duplicate' };
      // dispatch
      const outcome = await handle({ event, store, logger });
      await store.setOutcome(event.id, outcome);
      return { duplicate: false, outcome };
    });
    logger.info({ duplicate: result.duplicate, outcome: result.outcome }, 'stripe webhook processed');
    return { status: 200, body: { received: true, duplicate: result.duplicate } };
  } catch (error) {
    logger.error({ err: error }, 'stripe webhook failed; rolled back, Stripe will retry');
    return failed;
  }
}
