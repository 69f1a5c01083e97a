import { z } from 'zod';

export { parseInput } from '@tiergraph/runtime';

export const CODE_PATTERN = /^[a-z0-9-]{2,64}$/;

const code = z.string().regex(CODE_PATTERN, 'must be 2 to 64 characters of a-z, 0-9 and -');
const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const email = z.string().trim().toLowerCase().email('must be a valid email address').max(320);

export const createPlatformInput = z.object({ code, name });
export const createMerchantInput = z.object({ name, email });
export const createStoreInput = z.object({ merchantId: z.string(), platformId: z.string(), code, name });
export const addStoreUserInput = z.object({ storeId: z.string(), email, role: z.enum(['OWNER', 'MEMBER']) });
