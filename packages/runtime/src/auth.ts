import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ForbiddenError, UnauthenticatedError } from './errors';

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
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Caller>;

/**
 * Verifies `Authorization: Bearer <JWT>`: HS256 with the shared secret, or RS256 against a JWKS when
 * AUTH_JWKS_URL is set (checking AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE when those are set). In JWKS mode an HS256
 * token signed with the shared secret is still accepted, but only for `role: service`: internal calls between
 * the subgraphs and the gateway's IntrospectAndCompose sign service tokens with it. Every failure is
 * UNAUTHENTICATED; the reason goes to the message, never a stack.
 */
export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  const secret = new TextEncoder().encode(config.AUTH_JWT_SECRET);
  const jwks: JWTVerifyGetKey | undefined = config.AUTH_JWKS_URL ? createRemoteJWKSet(new URL(config.AUTH_JWKS_URL)) : undefined;
  const jwksOptions = {
    algorithms: ['RS256'],
    requiredClaims: ['exp'],
    ...(config.AUTH_JWT_ISSUER ? { issuer: config.AUTH_JWT_ISSUER } : {}),
    ...(config.AUTH_JWT_AUDIENCE ? { audience: config.AUTH_JWT_AUDIENCE } : {}),
  };
  const secretOptions = { algorithms: ['HS256'], requiredClaims: ['exp'] };
  return async (authorization) => {
    if (!authorization) throw new UnauthenticatedError('missing Authorization header');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new UnauthenticatedError('Authorization must be "Bearer <token>"');
    const token = match[1];
    let payload: unknown;
    /** Signed with the shared secret although a JWKS is configured: good for service tokens only. */
    let serviceOnly = false;
    try {
      if (jwks && algorithmOf(token) === 'HS256') {
        serviceOnly = true;
        payload = (await jwtVerify(token, secret, secretOptions)).payload;
      } else if (jwks) {
        payload = (await jwtVerify(token, jwks, jwksOptions)).payload;
      } else {
        payload = (await jwtVerify(token, secret, secretOptions)).payload;
      }
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('token expired');
      throw new UnauthenticatedError('invalid token');
    }
    if (serviceOnly && (payload as { role?: unknown }).role !== 'service') throw new UnauthenticatedError('invalid token');
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new UnauthenticatedError('token claims are incomplete for its role');
    const c = claims.data;
    switch (c.role) {
      case 'admin':
      case 'service':
        return { role: c.role, userId: c.sub };
      case 'merchant':
        return { role: 'merchant', userId: c.sub, merchantId: c.merchantId };
      case 'store':
        return { role: 'store', userId: c.sub, merchantId: c.merchantId, storeId: c.storeId };
    }
  };
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
