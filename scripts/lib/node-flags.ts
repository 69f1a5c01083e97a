import { z } from 'zod';

/**
 * V8's young generation for every tiergraph node process, in MiB (`--max-semi-space-size`): `pnpm start` passes it to
 * each service (SERVICE_SEMI_SPACE_MB), the Dockerfile through NODE_OPTIONS, the bench to its peers as well, so an
 * A/B compares like with like. A GraphQL request allocates mostly short-lived objects; at 32 (V8's own is 16 on
 * Node 20) fewer scavenges cut CPU per request about 8 % on MerchantFeatures and 12 % on the admin page
 * (bench/RESULTS.md, "a 32 MiB young generation"), for 15–30 MiB more per process under load.
 */
export const DEFAULT_SEMI_SPACE_MB = 32;

/** SERVICE_SEMI_SPACE_MB in an environment read with runtime's parseEnv (empty is unset): 0 to 1024 MiB. */
export const semiSpaceEnvShape = { SERVICE_SEMI_SPACE_MB: z.coerce.number().int().min(0).max(1024).default(DEFAULT_SEMI_SPACE_MB) };

/** The node flag for `mb` (none for 0: V8's own size). */
export const semiSpaceFlags = (mb: number): string[] => (mb ? [`--max-semi-space-size=${mb}`] : []);
