import type { StoreOwnerLookup } from './auth';
import { isUuid } from './db';
import type { StoreRef } from './keys';
import { AppError, isClientErrorCode } from './errors';
import { SIGNATURE_HEADER, type RequestSigner } from './request-signature';

/**
 * A service's credentials for internal calls: its token, and, when SUBGRAPH_HMAC_SECRET is set, the signer of its
 * requests, body and token (the callee answers `_entities` only to signed requests, request-signature.ts). A plain
 * token function is credentials without a signer.
 */
export interface ServiceCredentials {
  (): Promise<string>;
  sign?: RequestSigner;
}

/** The token function with a signer attached (subgraph.ts builds one per subgraph). */
export function withSigner(token: () => Promise<string>, sign: RequestSigner | undefined): ServiceCredentials {
  return sign ? Object.assign(() => token(), { sign }) : token;
}

/**
 * Another subgraph could not answer an internal call. The message is the reason only: it reaches clients inside
 * *_UNAVAILABLE errors, which must not show internal addresses; `target` is for the logs.
 */
export class InternalCallError extends Error {
  constructor(
    readonly target: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'InternalCallError';
  }
}

/**
 * One GraphQL call from a subgraph to another subgraph, with a service token: how owners ask billing for
 * entitlements, billing asks tenancy about merchants, orders asks catalog about products.
 */
export async function callSubgraph<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  serviceToken: ServiceCredentials,
  timeoutMs = 3000,
): Promise<T> {
  let body: { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string; retryable?: unknown } }> };
  try {
    const payload = JSON.stringify({ query, variables });
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${await serviceToken()}` };
    if (serviceToken.sign) headers[SIGNATURE_HEADER] = serviceToken.sign(payload, headers.authorization);
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = (await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }))) as typeof body;
    if (!response.ok && !body.errors?.length) throw new Error(`HTTP ${response.status}`);
  } catch (error) {
    throw new InternalCallError(url, (error as Error).message);
  }
  if (body.errors?.length || !body.data) {
    const first = body.errors?.[0];
    // a contract error of the callee (NOT_FOUND, BAD_USER_INPUT, …) is the caller's answer too
    const code = first?.extensions?.code;
    // retryable (DATABASE_UNAVAILABLE, …) stays what the callee said it is
    if (isClientErrorCode(code)) throw new AppError(first!.message, code, first!.extensions?.retryable === true ? { retryable: true } : {});
    throw new InternalCallError(url, first?.message ?? 'no data');
  }
  return body.data;
}


const STORES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { id merchantId platformId } } }`;

/**
 * Which merchant and platform a store belongs to, asked of tenancy (the source of truth) and kept in process:
 * a store never moves, so a found store is cached for good; unknown stores are asked again next time.
 */
export class StoreDirectory {
  private readonly known = new Map<string, StoreRef>();

  constructor(
    private readonly tenancyUrl: string,
    private readonly serviceToken: ServiceCredentials,
  ) {}

  /**
   * Many stores in one call to tenancy (those not known yet), each null when tenancy does not know it. A call
   * that names an unknown store is answered with NOT_FOUND as a whole, so then each is asked on its own.
   */
  async getMany(storeIds: readonly string[]): Promise<Map<string, StoreRef | null>> {
    const missing = [...new Set(storeIds)].filter((id) => !this.known.has(id));
    if (missing.length > 1) {
      try {
        const data = await callSubgraph<{ _entities: Array<StoreRef | null> }>(
          this.tenancyUrl,
          STORES,
          { r: missing.map((id) => ({ __typename: 'Store', id })) },
          this.serviceToken,
        );
        for (const store of data._entities) if (store) this.known.set(store.id, store);
      } catch (error) {
        if (!(error instanceof AppError && error.extensions.code === 'NOT_FOUND')) {
          if (error instanceof InternalCallError) {
            throw new AppError(`tenancy cannot be reached to look up stores; nothing was changed`, 'TENANCY_UNAVAILABLE');
          }
          throw error;
        }
      }
    }
    const found = new Map<string, StoreRef | null>();
    for (const id of new Set(storeIds)) found.set(id, this.known.get(id) ?? (await this.get(id)));
    return found;
  }

  /**
   * The merchant that owns a store, or null when there is none (an id that is no uuid cannot be one): how a subgraph
   * other than tenancy confirms a store token (auth.ts StoreOwnerLookup).
   */
  readonly ownerOf: StoreOwnerLookup = async (storeId) => (isUuid(storeId) ? ((await this.get(storeId.toLowerCase()))?.merchantId ?? null) : null);

  /** The store, or null when tenancy does not know it. */
  async get(storeId: string): Promise<StoreRef | null> {
    const cached = this.known.get(storeId);
    if (cached) return cached;
    try {
      const data = await callSubgraph<{ _entities: Array<StoreRef | null> }>(
        this.tenancyUrl,
        STORES,
        { r: [{ __typename: 'Store', id: storeId }] },
        this.serviceToken,
      );
      const store = data._entities[0];
      if (store) this.known.set(storeId, store);
      return store ?? null;
    } catch (error) {
      if (error instanceof AppError && error.extensions.code === 'NOT_FOUND') return null;
      if (error instanceof InternalCallError) {
        throw new AppError(`tenancy cannot be reached to look up store ${storeId}; nothing was changed`, 'TENANCY_UNAVAILABLE');
      }
      throw error;
    }
  }
}
