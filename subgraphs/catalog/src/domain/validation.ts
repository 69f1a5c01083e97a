import { z } from 'zod';
import { BadUserInputError } from '@tiergraph/runtime';

const sku = z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters');
const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const priceCents = z.number().int('must be an integer (cents)').min(0, 'must not be negative');
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of three capital letters, e.g. EUR')
  .nullish()
  .transform((value) => value ?? 'EUR');

export const createProductInput = z.object({ storeId: z.string(), sku, name, priceCents, currency });
export type CreateProductValues = z.infer<typeof createProductInput>;

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
export const pageSize = z
  .number()
  .int()
  .min(1, 'must be at least 1')
  .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
  .nullish()
  .transform((value) => value ?? DEFAULT_PAGE_SIZE);

/** Parses an input; the first problem becomes BAD_USER_INPUT naming its field (`field` prefixes the path). */
export function parseInput<T extends z.ZodTypeAny>(schema: T, input: unknown, field?: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [field, ...issue.path].filter((p) => p !== undefined && p !== '').join('.') || 'input';
  throw new BadUserInputError(`${path} ${issue.message}`, path);
}
