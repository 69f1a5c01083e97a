import { SUBSCRIPTION_STATUSES } from '@tiergraph/runtime';
import { z } from 'zod';

export { parseInput } from '@tiergraph/runtime';

const code = z.string().regex(/^[a-z0-9_-]{2,64}$/, 'must be 2 to 64 characters of a-z, 0-9, _ and -');
const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const cents = z.number().int('must be a whole number of cents').min(0, 'must not be negative');
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');
const optionalText = (max: number) => z.string().trim().max(max).nullish();

export const createTierInput = z.object({
  code,
  name,
  description: optionalText(2000),
  priceMonthlyCents: cents,
  priceAnnualCents: cents.nullish(),
  currency: currency.nullish(),
  isActive: z.boolean().nullish(),
  isPublic: z.boolean().nullish(),
  displayOrder: z.number().int().nullish(),
  stripePriceMonthlyId: optionalText(255),
  stripePriceAnnualId: optionalText(255),
});

export const updateTierInput = createTierInput.omit({ code: true, currency: true }).partial().extend({
  name: name.nullish(),
  priceMonthlyCents: cents.nullish(),
});

const featureCode = z.string().regex(/^[a-z0-9_]{2,64}$/, 'must be a feature code of a-z, 0-9 and _');
const limitValue = z.number().int().min(0, 'must not be negative (null means unlimited)').nullish();

export const tierLimitsInput = z
  .array(z.object({ featureCode, limitValue, enabled: z.boolean() }))
  .superRefine((rows, ctx) => duplicateCodes(rows, ctx));

export const overridesInput = z
  .array(z.object({ featureCode, limitValue, isEnabled: z.boolean() }))
  .superRefine((rows, ctx) => duplicateCodes(rows, ctx));

function duplicateCodes(rows: Array<{ featureCode: string }>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    if (seen.has(row.featureCode)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'featureCode'], message: 'is listed twice' });
    seen.add(row.featureCode);
  });
}

export const updateSubscriptionInput = z.object({
  // absent or null keeps the tier; an empty code is refused, never read as "keep it" (issue 11)
  tierCode: z.string().min(1, 'must not be empty').nullish(),
  status: z.enum(SUBSCRIPTION_STATUSES).nullish(),
  billingCycle: z.enum(['MONTHLY', 'ANNUAL']).nullish(),
  trialDays: z.number().int().min(0, 'must not be negative').max(365, 'must be at most 365').nullish(),
  reason: optionalText(500),
});

export const featureDeclarationsInput = z
  .array(
    z.object({
      code: featureCode,
      name,
      description: z.string().trim().max(2000),
      category: z.string().regex(/^[a-z0-9_]{2,64}$/, 'must be a category code of a-z, 0-9 and _'),
      featureType: z.enum(['BINARY', 'QUANTITATIVE']),
      scope: z.enum(['STORE', 'MERCHANT']),
      unit: z.string().trim().max(64).nullish().transform((u) => u ?? null),
      displayOrder: z.number().int(),
      measurement: z.enum(['COMPUTED', 'METERED']).nullish().transform((m) => m ?? 'COMPUTED'),
    }),
  )
  .superRefine((rows, ctx) => {
    const seen = new Set<string>();
    rows.forEach((row, i) => {
      if (row.measurement === 'METERED' && row.featureType !== 'QUANTITATIVE') {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'measurement'], message: 'METERED needs a QUANTITATIVE feature' });
      }
      if (seen.has(row.code)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'code'], message: 'is declared twice' });
      seen.add(row.code);
    });
  });

export const pageArgs = z.object({
  first: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
});
