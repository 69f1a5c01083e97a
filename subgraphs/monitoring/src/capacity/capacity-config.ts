import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** The configuration file the repository ships: the reference values of capacity-planning.md. */
export const DEFAULT_CAPACITY_CONFIG_PATH = join(__dirname, '..', '..', 'capacity.json');

/** The metrics platformHealth compares against thresholds. */
export const THRESHOLD_METRICS = ['products_total', 'storage_gb', 'db_size_gb', 'api_p95_ms', 'error_rate_percent'] as const;
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];

const bound = z.number().int().positive().nullable();

const tierSchema = z.object({
  name: z.string().min(1),
  maxStores: bound,
  maxProducts: bound,
  costMonthly: z.number().int().nonnegative(),
  /** Why and how the platform moves into this tier (the transition points of capacity-planning.md). */
  trigger: z.string().min(1),
});

const thresholdSchema = z
  .object({ warning: z.number().nonnegative(), critical: z.number().nonnegative() })
  .refine((t) => t.warning < t.critical, { message: 'warning must be below critical' });

const capacityConfigSchema = z
  .object({
    $comment: z.string().optional(),
    infrastructureTiers: z.array(tierSchema).min(1),
    thresholds: z.object(Object.fromEntries(THRESHOLD_METRICS.map((m) => [m, thresholdSchema])) as Record<ThresholdMetric, typeof thresholdSchema>).strict(),
    recommendations: z
      .object({
        /** Product utilisation (of the theoretical limit) above which capacity is a warning. */
        productCapacityPercent: z.number().positive().max(100),
        /** Store growth over the 30-day window above which growth is worth a note. */
        storeGrowthPercent: z.number().positive(),
        /** A metric that will cross its warning threshold within this many days is a forecast warning. */
        forecastHorizonDays: z.number().int().positive().max(365),
      })
      .strict(),
    /** The window daysUntilThreshold and the recommendations fit their slope over. */
    forecastWindowDays: z.number().int().min(2).max(365),
  })
  .strict()
  .superRefine((config, ctx) => {
    const tiers = config.infrastructureTiers;
    tiers.forEach((tier, i) => {
      const last = i === tiers.length - 1;
      if (last !== (tier.maxStores === null) || last !== (tier.maxProducts === null)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['infrastructureTiers', i], message: 'only the last tier is unbounded (maxStores and maxProducts null)' });
      }
      const previous = tiers[i - 1];
      if (previous && tier.maxStores !== null && previous.maxStores !== null && tier.maxProducts !== null && previous.maxProducts !== null) {
        if (tier.maxStores <= previous.maxStores || tier.maxProducts <= previous.maxProducts) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['infrastructureTiers', i], message: 'tiers must grow: maxStores and maxProducts above the previous tier' });
        }
      }
    });
  });

export type CapacityConfig = z.infer<typeof capacityConfigSchema>;
export type InfrastructureTier = CapacityConfig['infrastructureTiers'][number];
export type ThresholdLevels = CapacityConfig['thresholds'][ThresholdMetric];

/** Problems of a configuration, each named by its path (empty when it is valid). */
export function capacityConfigProblems(raw: unknown): { config?: CapacityConfig; problems: string[] } {
  const result = capacityConfigSchema.safeParse(raw);
  if (result.success) return { config: result.data, problems: [] };
  return { problems: result.error.issues.map((i) => `CAPACITY_CONFIG_PATH ${['', ...i.path].join('.') || '.'}: ${i.message}`) };
}

/** Reads and validates a configuration file; every problem is reported. */
export function readCapacityConfig(path: string): { config?: CapacityConfig; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return { problems: [`CAPACITY_CONFIG_PATH: ${path} cannot be read as JSON (${(error as Error).message})`] };
  }
  return capacityConfigProblems(raw);
}

/** The shipped defaults (throws when the shipped file is broken: a test keeps it valid). */
export function defaultCapacityConfig(): CapacityConfig {
  const { config, problems } = readCapacityConfig(DEFAULT_CAPACITY_CONFIG_PATH);
  if (!config) throw new Error(problems.join('\n'));
  return config;
}
