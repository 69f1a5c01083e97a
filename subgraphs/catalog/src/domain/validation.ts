import { z } from 'zod';

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
