import { z } from 'zod';

/**
 * The parts of Stripe's payloads the sidecar reads, as schemas: a verified body is parsed, never cast, so a
 * payload of another shape is refused (400) instead of failing halfway through a handler.
 */

const unixSeconds = z.number().int().nonnegative();
/** An id, or the object itself when the sender expanded it. */
const reference = z.union([z.string().min(1), z.object({ id: z.string().min(1) }).passthrough()]).transform((value) => (typeof value === 'string' ? value : value.id));
const metadata = z
  .record(z.string())
  .nullish()
  .transform((value) => value ?? {});

/** Every Stripe event: `event.id` is the idempotency key, `created` orders events about one subscription. */
export const stripeEventSchema = z.object({
  id: z.string().min(1),
  object: z.literal('event'),
  type: z.string().min(1),
  created: unixSeconds,
  data: z.object({ object: z.record(z.unknown()) }),
});
export type StripeEvent = z.infer<typeof stripeEventSchema>;

export const checkoutSessionSchema = z.object({
  object: z.literal('checkout.session'),
  id: z.string().min(1),
  mode: z.string().nullish(),
  payment_status: z.string().nullish(),
  customer: reference.nullish(),
  subscription: reference.nullish(),
  metadata,
});
export type CheckoutSession = z.infer<typeof checkoutSessionSchema>;

const subscriptionItemSchema = z.object({
  id: z.string().min(1),
  price: z.object({
    id: z.string().min(1),
    recurring: z.object({ interval: z.string() }).nullish(),
  }),
  quantity: z.number().int().nullish(),
  // API 2025-08-27.basil: the periods live on the items
  current_period_start: unixSeconds.nullish(),
  current_period_end: unixSeconds.nullish(),
});

export const subscriptionSchema = z.object({
  object: z.literal('subscription'),
  id: z.string().min(1),
  customer: reference.nullish(),
  status: z.string().min(1),
  metadata,
  items: z.object({ data: z.array(subscriptionItemSchema) }),
  // before basil the periods were on the subscription itself
  current_period_start: unixSeconds.nullish(),
  current_period_end: unixSeconds.nullish(),
  trial_end: unixSeconds.nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  cancel_at: unixSeconds.nullish(),
  canceled_at: unixSeconds.nullish(),
  ended_at: unixSeconds.nullish(),
});
export type StripeSubscription = z.infer<typeof subscriptionSchema>;

export const invoiceSchema = z.object({
  object: z.literal('invoice'),
  id: z.string().min(1),
  number: z.string().nullish(),
  status: z.string().nullish(),
  customer: reference.nullish(),
  amount_due: z.number().int().nonnegative(),
  amount_paid: z.number().int().nonnegative(),
  currency: z.string().regex(/^[a-zA-Z]{3}$/),
  created: unixSeconds,
  attempt_count: z.number().int().nonnegative().nullish(),
  invoice_pdf: z.string().nullish(),
  period_start: unixSeconds.nullish(),
  period_end: unixSeconds.nullish(),
  // API 2025-08-27.basil: the subscription is under parent.subscription_details
  parent: z
    .object({
      subscription_details: z.object({ subscription: reference, metadata }).nullish(),
    })
    .nullish(),
  // before basil
  subscription: reference.nullish(),
  lines: z
    .object({
      data: z.array(z.object({ period: z.object({ start: unixSeconds, end: unixSeconds }).nullish() })),
    })
    .nullish(),
});
export type StripeInvoice = z.infer<typeof invoiceSchema>;
