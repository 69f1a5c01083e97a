import { z } from 'zod';
import { API_VERSION } from './objects';
import { DEFAULT_WEBHOOK_SECRET, startStripeLocal } from './server';

/** `pnpm stripe:local`: the local Stripe stand-in for STRIPE_API_BASE. */
const envSchema = z.object({
  STRIPE_LOCAL_PORT: z.coerce.number().int().min(0).max(65535).default(12111),
  STRIPE_LOCAL_HOST: z.string().min(1).default('127.0.0.1'),
  STRIPE_WEBHOOK_URL: z.string().url().default('http://127.0.0.1:4001/webhooks/stripe'),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).default(DEFAULT_WEBHOOK_SECRET),
  /** Send customer.subscription.updated/deleted etc. for changes made through the API, as Stripe does. */
  STRIPE_LOCAL_API_EVENTS: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((value) => value === 'true' || value === '1'),
});

const parsed = envSchema.safeParse(process.env);
if (!parsed.success) {
  console.error(
    `stripe-local: invalid environment:\n${parsed.error.issues.map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`).join('\n')}`,
  );
  process.exit(2);
}
const env = parsed.data;

async function main(): Promise<void> {
  const stripeLocal = await startStripeLocal({
    port: env.STRIPE_LOCAL_PORT,
    host: env.STRIPE_LOCAL_HOST,
    webhookUrl: env.STRIPE_WEBHOOK_URL,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET,
    sendApiEvents: env.STRIPE_LOCAL_API_EVENTS,
    log: (line) => console.log(line),
  });

  const base = stripeLocal.url;
  console.log(
    [
      `stripe-local: the Stripe API (${API_VERSION}) on ${base}`,
      '  serves    /v1/customers, /v1/products, /v1/prices, /v1/checkout/sessions, /v1/billing_portal/sessions,',
      '            /v1/subscriptions, /v1/invoices (+ /v1/invoices/create_preview), /v1/invoiceitems, /v1/events',
      `  checkout  ${base}/checkout/<session id>  (Pay completes the session and sends its events)`,
      '  helpers   POST /_local/checkout/sessions/<id>/complete   POST /_local/clock/advance?days=N',
      '            POST /_local/events?type=<type>&object=<id>   POST /_local/customers/<id>/fail_next_payment',
      `  webhooks  signed events to ${env.STRIPE_WEBHOOK_URL}${env.STRIPE_LOCAL_API_EVENTS ? ' (also for changes made through the API)' : ''}`,
      '',
      'Point billing at it:',
      `  STRIPE_API_BASE=${base} STRIPE_SECRET_KEY=sk_test_local STRIPE_WEBHOOK_SECRET=${env.STRIPE_WEBHOOK_SECRET}`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log(`stripe-local: ${signal}, stopping`);
      void stripeLocal.stop().then(() => process.exit(0));
    });
  }
}

main().catch((error: unknown) => {
  console.error(`stripe-local: ${(error as Error).message}`);
  process.exit(1);
});
