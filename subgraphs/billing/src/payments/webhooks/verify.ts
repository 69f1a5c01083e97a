import Stripe from 'stripe';
import { stripeEventSchema, type StripeEvent } from './events';

/** What the route answers: status and JSON body. */
export interface WebhookAnswer {
  status: number;
  body: { received: true; duplicate: boolean } | { error: string };
}

export type Verification = { ok: true; event: StripeEvent } | { ok: false; answer: WebhookAnswer };

const refuse = (status: number, error: string): Verification => ({ ok: false, answer: { status, body: { error } } });

/**
 * The raw body, signed by Stripe with the endpoint's secret within the default tolerance (5 minutes), and shaped
 * like an event. Signature checks need no API key: the SDK's static `webhooks`.
 */
export function verifyStripeEvent(body: unknown, signature: string | undefined, secret: string | undefined): Verification {
  if (!secret) return refuse(503, 'STRIPE_WEBHOOK_SECRET is not set: webhooks cannot be verified');
  if (!signature) return refuse(400, 'missing Stripe-Signature header');
  if (!Buffer.isBuffer(body) || body.length === 0) return refuse(400, 'empty body');
  let payload: unknown;
  try {
    payload = Stripe.webhooks.constructEvent(body, signature, secret);
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) return refuse(400, `signature not verified: ${error.message}`);
    return refuse(400, 'the body is not JSON');
  }
  const event = stripeEventSchema.safeParse(payload);
  if (!event.success) return refuse(400, 'the body is not a Stripe event');
  return { ok: true, event: event.data };
}
