import { z } from 'zod';

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
