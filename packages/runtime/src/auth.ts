import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { AppError, ErrorCode, ForbiddenError, UnauthenticatedError } from './errors';

export const ROLES = ['admin', 'merchant', 'store', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as the verified token says. */
export type Caller =
  | { role: 'admin'; userId: string }
  | { role: 'service'; userId: string }
  | { role: 'merchant'; userId: string; merchantId: string }
  | { role: 'store'; userId: string; merchantId: string; storeId: string };

const claimsSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('admin'), sub: z.string().min(1) }),
  z.object({ role: z.literal('service'), sub: z.string().min(1) }),
  z.object({ role: z.literal('merchant'), sub: z.string().min(1), merchantId: z.string().min(1) }),
  z.object({ role: z.literal('store'), sub: z.string().min(1), merchantId: z.string().min(1), storeId: z.string().min(1) }),
]);

export interface AuthConfig {
  AUTH_JWT_SECRET: string;
  AUTH_JWKS_URL?: string;
  /** With AUTH_JWKS_URL: the issuer (`iss`) RS256 tokens must carry. */
  AUTH_JWT_ISSUER?: string;
  /** With AUTH_JWKS_URL: the audience (`aud`) RS256 tokens must carry. */
  AUTH_JWT_AUDIENCE?: string;
  /** How many verified tokens to remember (0: verify every request); default VERIFIED_TOKEN_CACHE_SIZE. */
  AUTH_TOKEN_CACHE_SIZE?: number;
}

/** Verified tokens remembered per process by default: a few MB at most (a token is a few hundred bytes). */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;
/**
 * A remembered token is checked again after this long even when it expires later, so a key taken out of the JWKS
 * stops being accepted within a minute.
 */
export const VERIFIED_TOKEN_MAX_AGE_MS = 60_000;

interface Verified {
  caller: Caller;
  /** The token's `exp`, in ms: from then on it is refused, cached or not. */
  expiresAt: number;
  /** When to verify it again (at most VERIFIED_TOKEN_MAX_AGE_MS after it was verified). */
  recheckAt: number;
}

/**
 * The tokens verified last, keyed by the token itself: bounded (the oldest entry goes first), expiry-aware (an
 * expired token is refused from the cache as jose would refuse it) and rechecked after VERIFIED_TOKEN_MAX_AGE_MS.
 * Only verified tokens enter; a refused one is verified again every time. Every hop (gateway, then each subgraph)
 * verifies the same caller's token, and HS256/RS256 verification was 5–11 % of a subgraph's CPU (issue 12).
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Verified>();
  constructor(
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The caller, `'expired'` when the token's exp has passed, or undefined when it has to be verified. */
  get(token: string): Caller | 'expired' | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const now = this.now();
    // jose: expired when exp <= now in whole seconds
    if (Math.floor(now / 1000) >= entry.expiresAt / 1000) {
      this.entries.delete(token);
      return 'expired';
    }
    if (now >= entry.recheckAt) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.caller;
  }

  set(token: string, caller: Caller, expSeconds: number): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(token);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { caller: Object.isFrozen(caller) ? caller : Object.freeze({ ...caller }), expiresAt: expSeconds * 1000, recheckAt: this.now() + VERIFIED_TOKEN_MAX_AGE_MS });
  }
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Caller>;

/**
 * The merchant that owns a store (its id), or null when there is no such store: what tenancy, the source of truth
 * for store → merchant, says. Tenancy answers from its own table; every other subgraph asks tenancy (internal-client.ts).
 */
export type StoreOwnerLookup = (storeId: string) => Promise<string | null>;

/** The one refusal of a store token whose store is not its merchant's (or does not exist): the same words either way. */
export const STORE_NOT_OF_MERCHANT = "the token's store is not a store of the token's merchant";

/**
 * A store token's signature says its issuer wrote both claims, not that the store is the merchant's. With
 * `storeOwner`, a `store` token is accepted only once tenancy confirms that its storeId belongs to its merchantId
 * (issue 11: a token for merchant A with store B read A's merchant-level data on the paths that check the merchant
 * only). The check is part of verification: a confirmed token enters the cache with it, so only a token's first
 * request (and one a minute after, VERIFIED_TOKEN_MAX_AGE_MS) asks; concurrent first requests share one verification.
 * A mismatch is UNAUTHENTICATED (the token names no consistent caller; the contract's "bad token") and says nothing
 * of whose the store is; tenancy unreachable fails closed with TENANCY_UNAVAILABLE (retryable).
 */
async function confirmStoreOfMerchant(caller: Extract<Caller, { role: 'store' }>, storeOwner: StoreOwnerLookup): Promise<void> {
  let owner: string | null;
  try {
    owner = await storeOwner(caller.storeId);
  } catch (error) {
    // tenancy's refusal of the question itself (its database down, a signature it does not accept) is tenancy being
    // unable to answer, not this service's own failure: a local database error is no AppError and is masked as such
    if (error instanceof AppError) {
      throw new AppError("tenancy cannot be reached to confirm the token's store; nothing was done, try again", ErrorCode.TENANCY_UNAVAILABLE, { retryable: true }, 503);
    }
    throw error;
  }
  if (owner === null || owner.toLowerCase() !== caller.merchantId.toLowerCase()) throw new UnauthenticatedError(STORE_NOT_OF_MERCHANT);
}

export interface TokenVerifierOptions {
  now?: () => number;
  cache?: VerifiedTokenCache;
  /** Confirms every store token's store with tenancy before it is accepted (subgraphs; see confirmStoreOfMerchant). */
  storeOwner?: StoreOwnerLookup;
}

/**
 * Verifies `Authorization: Bearer <JWT>`: HS256 with the shared secret, or RS256 against a JWKS when
 * AUTH_JWKS_URL is set (checking AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE when those are set). In JWKS mode an HS256
 * token signed with the shared secret is still accepted, but only for `role: service`: internal calls between
 * the subgraphs and the gateway's IntrospectAndCompose sign service tokens with it. Every failure is
 * UNAUTHENTICATED; the reason goes to the message, never a stack. With `storeOwner`, a store token must name a store
 * of its merchant (confirmStoreOfMerchant).
 */
export function createTokenVerifier(config: AuthConfig, options: TokenVerifierOptions = {}): TokenVerifier {
  const cache = options.cache ?? new VerifiedTokenCache(config.AUTH_TOKEN_CACHE_SIZE ?? VERIFIED_TOKEN_CACHE_SIZE, options.now);
  const secret = new TextEncoder().encode(config.AUTH_JWT_SECRET);
  const jwks: JWTVerifyGetKey | undefined = config.AUTH_JWKS_URL ? createRemoteJWKSet(new URL(config.AUTH_JWKS_URL)) : undefined;
  const jwksOptions = {
    algorithms: ['RS256'],
    requiredClaims: ['exp'],
    ...(config.AUTH_JWT_ISSUER ? { issuer: config.AUTH_JWT_ISSUER } : {}),
    ...(config.AUTH_JWT_AUDIENCE ? { audience: config.AUTH_JWT_AUDIENCE } : {}),
  };
  const secretOptions = { algorithms: ['HS256'], requiredClaims: ['exp'] };
  /** Verifications under way, by token: at most as many as requests in flight, each gone when it settles. */
  const inFlight = new Map<string, Promise<Caller>>();
  return async (authorization) => {
    if (!authorization) throw new UnauthenticatedError('missing Authorization header');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new UnauthenticatedError('Authorization must be "Bearer <token>"');
    const token = match[1];
    const cached = cache.get(token);
    if (cached === 'expired') throw new UnauthenticatedError('token expired');
    if (cached) return cached;
    let verifying = inFlight.get(token);
    if (!verifying) {
      verifying = verifyAndConfirm(token).finally(() => inFlight.delete(token));
      inFlight.set(token, verifying);
    }
    return verifying;
  };

  async function verifyAndConfirm(token: string): Promise<Caller> {
    const { caller, exp } = await verifyToken(token);
    if (caller.role === 'store' && options.storeOwner) await confirmStoreOfMerchant(caller, options.storeOwner);
    // frozen: the same object answers later requests with this token
    Object.freeze(caller);
    cache.set(token, caller, exp);
    return caller;
  }

  async function verifyToken(token: string): Promise<{ caller: Caller; exp: number }> {
    // with an injected clock (tests), jose judges exp by the same clock as the cache
    const currentDate = options.now ? new Date(options.now()) : undefined;
    let payload: { exp?: number } & Record<string, unknown>;
    /** Signed with the shared secret although a JWKS is configured: good for service tokens only. */
    let serviceOnly = false;
    try {
      if (jwks && algorithmOf(token) === 'HS256') {
        serviceOnly = true;
        payload = (await jwtVerify(token, secret, { ...secretOptions, currentDate })).payload;
      } else if (jwks) {
        payload = (await jwtVerify(token, jwks, { ...jwksOptions, currentDate })).payload;
      } else {
        payload = (await jwtVerify(token, secret, { ...secretOptions, currentDate })).payload;
      }
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('token expired');
      throw new UnauthenticatedError('invalid token');
    }
    if (serviceOnly && (payload as { role?: unknown }).role !== 'service') throw new UnauthenticatedError('invalid token');
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new UnauthenticatedError('token claims are incomplete for its role');
    // exp is a required claim: jose refused the token without it
    return { caller: callerOf(claims.data), exp: payload.exp! };
  }
}

function callerOf(c: z.infer<typeof claimsSchema>): Caller {
  switch (c.role) {
    case 'admin':
    case 'service':
      return { role: c.role, userId: c.sub };
    case 'merchant':
      return { role: 'merchant', userId: c.sub, merchantId: c.merchantId };
    case 'store':
      return { role: 'store', userId: c.sub, merchantId: c.merchantId, storeId: c.storeId };
  }
}

/** The `alg` of a token's protected header, or undefined when it is not a readable JWS. */
function algorithmOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return undefined;
  }
}

export interface TokenClaims {
  role: Role;
  sub?: string;
  merchantId?: string;
  storeId?: string;
}

/** Signs an HS256 token (development tool and tests). */
export async function signToken(secret: string, claims: TokenClaims, expiresIn: string | number = '12h'): Promise<string> {
  const { sub, ...rest } = claims;
  return new SignJWT({ ...rest })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub ?? `${claims.role}-dev`)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

// ───────────── authorisation helpers: every resolver and __resolveReference goes through these ─────────────

export function requireAdmin(caller: Caller): void {
  if (caller.role !== 'admin') throw new ForbiddenError('this operation needs the admin role');
}

/** Admin views and internal reads: admins, and the other subgraphs with a service token; `message` says what is refused. */
export function requireAdminOrService(caller: Caller, message = 'this operation needs the admin or service role'): void {
  if (caller.role !== 'admin' && caller.role !== 'service') throw new ForbiddenError(message);
}

/** Admin and service see every tenant; a merchant its own; a store user its own merchant. */
export function canReadMerchant(caller: Caller, merchantId: string): boolean {
  if (caller.role === 'admin' || caller.role === 'service') return true;
  return caller.merchantId === merchantId;
}

/** Admin and service see every store; a merchant its own stores; a store user only its own store. */
export function canReadStore(caller: Caller, store: { id: string; merchantId: string }): boolean {
  switch (caller.role) {
    case 'admin':
    case 'service':
      return true;
    case 'merchant':
      return caller.merchantId === store.merchantId;
    case 'store':
      return caller.storeId === store.id && caller.merchantId === store.merchantId;
  }
}

/** Admin, or the merchant that owns the store: who may manage a store's team. */
export function canManageStore(caller: Caller, store: { merchantId: string }): boolean {
  return caller.role === 'admin' || (caller.role === 'merchant' && caller.merchantId === store.merchantId);
}

export function assertCanReadMerchant(caller: Caller, merchantId: string): void {
  if (!canReadMerchant(caller, merchantId)) throw new ForbiddenError('this merchant belongs to another tenant');
}

export function assertCanReadStore(caller: Caller, store: { id: string; merchantId: string }): void {
  if (!canReadStore(caller, store)) throw new ForbiddenError('this store belongs to another tenant');
}

/** A service token for internal calls, re-signed shortly before it expires. */
export function serviceTokenProvider(secret: string, sub: string): () => Promise<string> {
  let current: { token: string; expires: number } | undefined;
  return async () => {
    if (!current || current.expires < Date.now() + 60_000) {
      current = { token: await signToken(secret, { role: 'service', sub }, '10m'), expires: Date.now() + 600_000 };
    }
    return current.token;
  };
}
