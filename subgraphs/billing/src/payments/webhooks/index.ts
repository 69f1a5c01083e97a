import type { SubgraphDependencies } from '@tiergraph/runtime';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import type Stripe from 'stripe';
import type { StripeSettings } from '../stripe-settings';
import { processStripeWebhook } from './pipeline';

export interface WebhookDependencies extends SubgraphDependencies {
  stripe: Stripe | null;
  settings: StripeSettings;
}

/** Stripe's events are a few kilobytes; anything near this is not one. */
export const WEBHOOK_BODY_LIMIT = '1mb';

/** Body errors before the pipeline: too large is 413, an unreadable body 400, both as JSON. */
const bodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
  const status = typeof error?.status === 'number' ? error.status : 500;
  if (status === 413) res.status(413).json({ error: `the body is larger than ${WEBHOOK_BODY_LIMIT}` });
  else if (status >= 400 && status < 500) res.status(400).json({ error: 'the body could not be read' });
  else next(error);
};

/**
 * POST /webhooks/stripe on the billing process (the contract's webhook sidecar): the raw body (the signature is
 * over its exact bytes), answered as the contract's table says.
 */
export function mountStripeWebhooks(app: Express, deps: WebhookDependencies): void {
  app.post(
    '/webhooks/stripe',
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }),
    async (req: Request, res: Response) => {
      const answer = await processStripeWebhook(
        { body: req.body, signature: req.header('stripe-signature') },
        { dataSource: deps.dataSource, logger: deps.logger, stripe: deps.stripe, webhookSecret: deps.settings.webhookSecret },
      );
      res.status(answer.status).json(answer.body);
    },
    bodyErrors,
  );
}
