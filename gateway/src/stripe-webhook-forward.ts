import express, { type Express } from 'express';
import type { Logger } from '@tiergraph/runtime';

/** Billing's webhook sidecar: its GraphQL URL with `/graphql` replaced by `/webhooks/stripe`. */
export function webhookUrlOf(billingGraphqlUrl: string): string {
  const url = new URL(billingGraphqlUrl);
  url.pathname = url.pathname.replace(/\/graphql\/?$/, '') + '/webhooks/stripe';
  return url.toString();
}

/** The headers that travel with a Stripe delivery: the body's type and the signature over the exact bytes. */
const FORWARDED = ['content-type', 'stripe-signature'] as const;

/**
 * POST /webhooks/stripe on the gateway, the deployment's one public port: the raw body and the signature go to
 * billing untouched (billing verifies them), and billing's answer comes back as it is. Billing unreachable or slow:
 * 503, so Stripe retries the delivery later.
 */
export function mountStripeWebhookForward(app: Express, options: { billingUrl: string; timeoutMs: number; limit: string; logger: Logger }): void {
  const target = webhookUrlOf(options.billingUrl);
  app.post('/webhooks/stripe', express.raw({ type: () => true, limit: options.limit }), async (req, res) => {
    const headers = Object.fromEntries(FORWARDED.flatMap((name) => (req.header(name) ? [[name, req.header(name)!]] : [])));
    try {
      const answer = await fetch(target, {
        method: 'POST',
        headers,
        body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      res.status(answer.status).type(answer.headers.get('content-type') ?? 'application/json').send(Buffer.from(await answer.arrayBuffer()));
    } catch (error) {
      options.logger.warn({ err: error }, 'billing did not take a Stripe webhook; Stripe will retry it');
      res.status(503).json({ error: 'billing is unavailable; nothing was processed, Stripe retries the delivery' });
    }
  });
}
