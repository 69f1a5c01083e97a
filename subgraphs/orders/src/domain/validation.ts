import { z } from 'zod';
import { BadUserInputError } from '@tiergraph/runtime';

export const MAX_ITEMS_PER_ORDER = 100;

const item = z.object({
  productId: z.string(),
  quantity: z.number().int('must be an integer').min(1, 'must be at least 1'),
});

export const placeOrderInput = z.object({
  storeId: z.string(),
  items: z.array(item).min(1, 'must contain at least one item').max(MAX_ITEMS_PER_ORDER, `must contain at most ${MAX_ITEMS_PER_ORDER} items`),
  customerEmail: z
    .string()
    .trim()
    .toLowerCase()
    .email('must be a valid email address')
    .max(320, 'must be at most 320 characters')
    .nullish()
    .transform((value) => value ?? null),
});
export type PlaceOrderValues = z.infer<typeof placeOrderInput>;

/** Parses a mutation input; the first problem becomes BAD_USER_INPUT naming its field (e.g. items.2.quantity). */
export function parseInput<T extends z.ZodTypeAny>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || 'input';
  throw new BadUserInputError(`${field} ${issue.message}`, field);
}
