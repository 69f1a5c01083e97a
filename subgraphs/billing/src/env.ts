import { parseEnvOrExit, subgraphEnvSchema, type SubgraphEnv } from '@tiergraph/runtime';
import { z } from 'zod';
import { DEFAULT_RETURN_URL, type StripeSettings } from './payments/stripe-settings';
import type { UsageRules } from './usage/usage-rules';
import type { BillingJobOptions } from './index';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

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
  // Background jobs (pg-boss in the `pgboss` schema of the same database)
  /** Run the job workers and schedules in this process; false: only runJob runs jobs. */
  JOBS_ENABLED: flag.default('true'),
  /** Whether this instance turns the schedules into runs (pg-boss lets one instance a minute do it anyway). */
  JOBS_SCHEDULE: flag.default('true'),
  /** Attempts after a failed one, and the delay before the first retry (doubling after). */
  JOBS_RETRY_LIMIT: z.coerce.number().int().min(0).max(20).default(3),
  JOBS_RETRY_DELAY_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  /** CLEANUP_STALE_SUBSCRIPTIONS removes transient data of subscriptions ended longer ago than this. */
  JOBS_CLEANUP_AFTER_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
});

/** One schema for the whole process: a bad shared variable and a bad billing one are reported together. */
export const billingEnvSchema = z.intersection(subgraphEnvSchema('billing'), billingOwnEnvSchema);

export interface BillingSettings {
  env: SubgraphEnv;
  stripe: StripeSettings;
  usage: UsageRules;
  jobs: BillingJobOptions;
}

export function billingSettingsOf(parsed: z.infer<typeof billingEnvSchema>): BillingSettings {
  return {
    env: parsed,
    usage: { lateGraceHours: parsed.USAGE_LATE_GRACE_HOURS },
    jobs: {
      schedule: parsed.JOBS_ENABLED
        ? { schedule: parsed.JOBS_SCHEDULE, retryLimit: parsed.JOBS_RETRY_LIMIT, retryDelaySeconds: parsed.JOBS_RETRY_DELAY_SECONDS }
        : undefined,
      cleanupAfterDays: parsed.JOBS_CLEANUP_AFTER_DAYS,
    },
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
