import { parseEnvOrExit, subgraphEnvSchema, type SubgraphEnv } from '@tiergraph/runtime';
import { z } from 'zod';
import { DEFAULT_RETURN_URL, type StripeSettings } from './payments/stripe-settings';
import type { UsageRules } from './usage/usage-rules';

/** Billing's own variables on top of the shared subgraph ones (README, Configuration). */
const billingOwnEnvSchema = z.object({
  /** Without it the Stripe-backed operations answer PAYMENT_SYSTEM_NOT_CONFIGURED; the rest of the graph works. */
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** Without it POST /webhooks/stripe answers 503. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** e.g. http://127.0.0.1:12111 for the local stand-in (`pnpm stripe:local`); default: Stripe itself. */
  STRIPE_API_BASE: z.string().url().optional(),
  /** Trial of a merchant's first subscription. */
  STRIPE_TRIAL_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  /** The merchant's billing page, where Checkout and the portal return to. */
  BILLING_RETURN_URL: z.string().url().default(DEFAULT_RETURN_URL),
  /** Metered usage: how long after a period closed its late events still count in it. */
  USAGE_LATE_GRACE_HOURS: z.coerce.number().int().min(0).max(720).default(24),
});

/** One schema for the whole process: a bad shared variable and a bad billing one are reported together. */
export const billingEnvSchema = z.intersection(subgraphEnvSchema('billing'), billingOwnEnvSchema);

export interface BillingSettings {
  env: SubgraphEnv;
  stripe: StripeSettings;
  usage: UsageRules;
}

export function billingSettingsOf(parsed: z.infer<typeof billingEnvSchema>): BillingSettings {
  return {
    env: parsed,
    usage: { lateGraceHours: parsed.USAGE_LATE_GRACE_HOURS },
    stripe: {
      secretKey: parsed.STRIPE_SECRET_KEY,
      webhookSecret: parsed.STRIPE_WEBHOOK_SECRET,
      apiBase: parsed.STRIPE_API_BASE,
      trialDays: parsed.STRIPE_TRIAL_DAYS,
      returnUrl: parsed.BILLING_RETURN_URL,
    },
  };
}

/** Parses process.env once at start; every problem is reported at once and the process exits non-zero. */
export function loadEnv(): BillingSettings {
  return billingSettingsOf(parseEnvOrExit(billingEnvSchema, process.env));
}
