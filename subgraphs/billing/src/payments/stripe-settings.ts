import Stripe from 'stripe';

/** How billing talks to Stripe; every field may be absent (then the Stripe-backed parts say so and the rest works). */
export interface StripeSettings {
  secretKey?: string;
  webhookSecret?: string;
  /** Base URL of the Stripe API, e.g. the local stand-in's http://127.0.0.1:12111. */
  apiBase?: string;
  trialDays: number;
  /** Where Checkout and the billing portal send the customer back (the merchant's billing page). */
  returnUrl: string;
}

export const DEFAULT_RETURN_URL = 'http://localhost:3000/billing';
export const noStripe: StripeSettings = { trialDays: 30, returnUrl: DEFAULT_RETURN_URL };

/** The real SDK, pointed at STRIPE_API_BASE when set; null without a secret key. */
export function createStripeClient(settings: StripeSettings): Stripe | null {
  if (!settings.secretKey) return null;
  const base = settings.apiBase ? new URL(settings.apiBase) : undefined;
  return new Stripe(settings.secretKey, {
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol.replace(':', '') as 'http' | 'https',
        }
      : {}),
    maxNetworkRetries: 2,
    timeout: 10_000,
  });
}
