import { z } from 'zod';
import { checkoutSessionCompleted } from './checkout-session-completed';
import { defineHandler, type WebhookHandler } from './handler';
import { invoicePaid } from './invoice-paid';
import { invoicePaymentFailed } from './invoice-payment-failed';
import { subscriptionChanged } from './subscription-changed';
import { subscriptionDeleted } from './subscription-deleted';
import { trialWillEnd } from './trial-will-end';

/** One handler per event type the contract lists. */
export const handlers: ReadonlyMap<string, WebhookHandler> = new Map([
  ['checkout.session.completed', checkoutSessionCompleted],
  ['customer.subscription.created', subscriptionChanged],
  ['customer.subscription.updated', subscriptionChanged],
  ['customer.subscription.deleted', subscriptionDeleted],
  ['customer.subscription.trial_will_end', trialWillEnd],
  ['invoice.paid', invoicePaid],
  ['invoice.payment_failed', invoicePaymentFailed],
]);

/** Any other type: recorded (so a redelivery is a duplicate) and otherwise ignored. */
export const unhandledEvent = defineHandler({
  object: z.unknown(),
  apply: async (context) => `ignored: ${context.event.type} is not handled`,
});

export type { BoundHandler, WebhookContext, WebhookEvent, WebhookHandler } from './handler';
