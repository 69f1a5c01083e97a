import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { canManageStore, canReadMerchant, canReadStore, createTokenVerifier, serviceTokenProvider, signToken, STORE_NOT_OF_MERCHANT, VERIFIED_TOKEN_MAX_AGE_MS, VerifiedTokenCache, type Caller, type StoreOwnerLookup } from './auth';
import { AppError } from './errors';

const SECRET = 'a-secret-of-sufficient-length-1';
const verify = createTokenVerifier({ AUTH_JWT_SECRET: SECRET });

async function codeAndMessage(promise: Promise<unknown>): Promise<[unknown, string]> {
  try {
    await promise;
  } catch (error) {
    const e = error as { extensions?: { code?: string }; message: string };
    return [e.extensions?.code, e.message];
  }
  return ['no error', ''];
}

describe('token verification', () => {
  it('accepts a well-signed token of each role and returns the caller', async () => {
    await expect(verify(`Bearer ${await signToken(SECRET, { role: 'admin', sub: 'u1' })}`)).resolves.toEqual({ role: 'admin', userId: 'u1' });
    await expect(verify(`Bearer ${await signToken(SECRET, { role: 'store', sub: 'u2', merchantId: 'm', storeId: 's' })}`)).resolves.toEqual({
      role: 'store',
      userId: 'u2',
      merchantId: 'm',
      storeId: 's',
    });
  });

  it.each([
    ['missing', undefined, 'missing Authorization header'],
    ['not bearer', 'Basic abc', 'Authorization must be "Bearer <token>"'],
    ['malformed', 'Bearer not.a.jwt', 'invalid token'],
  ])('refuses a %s header', async (_what, header, message) => {
    expect(await codeAndMessage(verify(header))).toEqual(['UNAUTHENTICATED', message]);
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signToken('another-secret-of-enough-length', { role: 'admin' });
    expect(await codeAndMessage(verify(`Bearer ${token}`))).toEqual(['UNAUTHENTICATED', 'invalid token']);
  });

  it('refuses an expired token', async () => {
    const token = await signToken(SECRET, { role: 'admin' }, Math.floor(Date.now() / 1000) - 10);
    expect(await codeAndMessage(verify(`Bearer ${token}`))).toEqual(['UNAUTHENTICATED', 'token expired']);
  });

  it('refuses a token without exp', async () => {
    const token = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').sign(new TextEncoder().encode(SECRET));
    expect(await codeAndMessage(verify(`Bearer ${token}`))).toEqual(['UNAUTHENTICATED', 'invalid token']);
  });

  it('refuses an unsigned (alg none) token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ role: 'admin', sub: 'x', exp: 9999999999 })).toString('base64url');
    expect(await codeAndMessage(verify(`Bearer ${header}.${body}.`))).toEqual(['UNAUTHENTICATED', 'invalid token']);
  });

  it.each([
    [{ role: 'merchant' }],
    [{ role: 'store', merchantId: 'm' }],
    [{ role: 'superuser' }],
  ])('refuses claims that do not fit the role: %p', async (claims) => {
    const token = await signToken(SECRET, claims as never);
    expect(await codeAndMessage(verify(`Bearer ${token}`))).toEqual(['UNAUTHENTICATED', 'token claims are incomplete for its role']);
  });
});

describe('tenant scopes', () => {
  const admin: Caller = { role: 'admin', userId: 'a' };
  const service: Caller = { role: 'service', userId: 's' };
  const merchant: Caller = { role: 'merchant', userId: 'm', merchantId: 'M1' };
  const storeUser: Caller = { role: 'store', userId: 'u', merchantId: 'M1', storeId: 'S1' };
  const ownStore = { id: 'S1', merchantId: 'M1' };
  const siblingStore = { id: 'S2', merchantId: 'M1' };
  const foreignStore = { id: 'S9', merchantId: 'M9' };

  it('lets admin and service read everything', () => {
    for (const caller of [admin, service]) {
      expect([canReadMerchant(caller, 'M9'), canReadStore(caller, foreignStore)]).toEqual([true, true]);
    }
  });

  it('limits a merchant to its own merchant and stores', () => {
    expect([canReadMerchant(merchant, 'M1'), canReadMerchant(merchant, 'M9')]).toEqual([true, false]);
    expect([canReadStore(merchant, ownStore), canReadStore(merchant, siblingStore), canReadStore(merchant, foreignStore)]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('limits a store user to its own store', () => {
    expect([canReadStore(storeUser, ownStore), canReadStore(storeUser, siblingStore), canReadStore(storeUser, foreignStore)]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('lets only admins and the owning merchant manage a store team', () => {
    expect([admin, service, merchant, storeUser].map((c) => canManageStore(c, ownStore))).toEqual([true, false, true, false]);
    expect(canManageStore(merchant, foreignStore)).toBe(false);
  });
});

describe('RS256 against a JWKS (AUTH_JWKS_URL)', () => {
  let server: http.Server;
  let jwksUrl: string;
  let privateKey: KeyLike;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('accepts a token signed by a key of the JWKS and refuses an HS256 token signed with the shared secret', async () => {
    const verifyRs = createTokenVerifier({ AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: jwksUrl });
    const rs = await new SignJWT({ role: 'merchant', merchantId: 'M1' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('u9')
      .setExpirationTime('5m')
      .sign(privateKey);
    await expect(verifyRs(`Bearer ${rs}`)).resolves.toEqual({ role: 'merchant', userId: 'u9', merchantId: 'M1' });
    const hs = await signToken(SECRET, { role: 'admin' });
    expect(await codeAndMessage(verifyRs(`Bearer ${hs}`))).toEqual(['UNAUTHENTICATED', 'invalid token']);
  });

  const rsToken = (claims: { iss?: string; aud?: string }) => {
    const jwt = new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('a1').setExpirationTime('5m');
    if (claims.iss) jwt.setIssuer(claims.iss);
    if (claims.aud) jwt.setAudience(claims.aud);
    return jwt.sign(privateKey);
  };

  it('checks AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE when they are set', async () => {
    const verifyRs = createTokenVerifier({
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWKS_URL: jwksUrl,
      AUTH_JWT_ISSUER: 'https://id.example.com/',
      AUTH_JWT_AUDIENCE: 'tiergraph',
    });
    const good = await rsToken({ iss: 'https://id.example.com/', aud: 'tiergraph' });
    await expect(verifyRs(`Bearer ${good}`)).resolves.toEqual({ role: 'admin', userId: 'a1' });
    for (const claims of [
      { iss: 'https://evil.example.com/', aud: 'tiergraph' },
      { iss: 'https://id.example.com/', aud: 'another-api' },
      { aud: 'tiergraph' },
      { iss: 'https://id.example.com/' },
    ]) {
      expect({ claims, result: await codeAndMessage(verifyRs(`Bearer ${await rsToken(claims)}`)) }).toEqual({
        claims,
        result: ['UNAUTHENTICATED', 'invalid token'],
      });
    }
  });

  it('accepts an HS256 token signed with the shared secret only for role service', async () => {
    const verifyRs = createTokenVerifier({
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWKS_URL: jwksUrl,
      AUTH_JWT_ISSUER: 'https://id.example.com/',
      AUTH_JWT_AUDIENCE: 'tiergraph',
    });
    const service = await signToken(SECRET, { role: 'service', sub: 'billing' });
    await expect(verifyRs(`Bearer ${service}`)).resolves.toEqual({ role: 'service', userId: 'billing' });
    for (const claims of [{ role: 'admin' }, { role: 'merchant', merchantId: 'M1' }, { role: 'store', merchantId: 'M1', storeId: 'S1' }] as const) {
      const token = await signToken(SECRET, claims);
      expect({ role: claims.role, result: await codeAndMessage(verifyRs(`Bearer ${token}`)) }).toEqual({
        role: claims.role,
        result: ['UNAUTHENTICATED', 'invalid token'],
      });
    }
    const foreign = await signToken('another-secret-of-enough-length', { role: 'service' });
    expect(await codeAndMessage(verifyRs(`Bearer ${foreign}`))).toEqual(['UNAUTHENTICATED', 'invalid token']);
    const expired = await signToken(SECRET, { role: 'service' }, Math.floor(Date.now() / 1000) - 10);
    expect(await codeAndMessage(verifyRs(`Bearer ${expired}`))).toEqual(['UNAUTHENTICATED', 'token expired']);
  });
});

// Each case below was a surviving mutant of `pnpm test:mutation auth`.
describe('what the mutation run found unguarded in auth', () => {
  it('a store user whose token names its store under another merchant reads neither', () => {
    const mismatched: Caller = { role: 'store', userId: 'u', merchantId: 'M2', storeId: 'S1' };
    expect(canReadStore(mismatched, { id: 'S1', merchantId: 'M1' })).toBe(false);
  });

  it('reads "Bearer <token>" exactly: any amount of space, trimmed, nothing before or after', async () => {
    const token = await signToken(SECRET, { role: 'admin', sub: 'a' });
    for (const header of [`Bearer   ${token}`, `  bearer ${token}  `]) expect((await verify(header)).role).toBe('admin');
    for (const header of [`xBearer ${token}`, `Bearer ${token} extra`, `Token Bearer ${token}`]) {
      expect(await codeAndMessage(verify(header))).toEqual(['UNAUTHENTICATED', 'Authorization must be "Bearer <token>"']);
    }
  });

  it('a service token is signed once and reused until a minute before its ten minutes are up', async () => {
    // the clock only: WebCrypto's promises and jose keep running
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval'] });
    try {
      const start = Date.parse('2026-12-01T10:00:00Z');
      jest.setSystemTime(start);
      const next = serviceTokenProvider(SECRET, 'catalog');
      const first = await next();
      expect((await verify(`Bearer ${first}`)).role).toBe('service');
      jest.setSystemTime(start + 8 * 60_000); // 8 minutes: still the same token
      expect(await next()).toBe(first);
      jest.setSystemTime(start + 9 * 60_000 + 1000); // within the last minute: a fresh one
      const second = await next();
      expect(second).not.toBe(first);
      jest.setSystemTime(start + 10 * 60_000);
      expect(await next()).toBe(second);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a token that is not a readable JWS is refused when a JWKS is configured too', async () => {
    const withJwks = createTokenVerifier({ AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });
    expect((await codeAndMessage(withJwks('Bearer not.a.jws')))[0]).toBe('UNAUTHENTICATED');
  });
});

describe('verified-token cache', () => {
  const clockAt = (start: number) => {
    const clock = { now: start, read: () => clock.now };
    return clock;
  };

  it('refuses an expired token even though it was verified and cached before it expired', async () => {
    const clock = clockAt(Date.now());
    const cached = createTokenVerifier({ AUTH_JWT_SECRET: SECRET }, { now: clock.read });
    const header = `Bearer ${await signToken(SECRET, { role: 'admin', sub: 'u1' }, '30s')}`;
    await expect(cached(header)).resolves.toEqual({ role: 'admin', userId: 'u1' });
    await expect(cached(header)).resolves.toEqual({ role: 'admin', userId: 'u1' });
    clock.now += 31_000;
    expect(await codeAndMessage(cached(header))).toEqual(['UNAUTHENTICATED', 'token expired']);
    expect(await codeAndMessage(cached(header))).toEqual(['UNAUTHENTICATED', 'token expired']);
  });

  it('answers a repeated token from the cache: the same caller, without verifying it again', async () => {
    const cache = new VerifiedTokenCache(10);
    const verify = createTokenVerifier({ AUTH_JWT_SECRET: SECRET }, { cache });
    const token = await signToken(SECRET, { role: 'merchant', sub: 'u', merchantId: 'm' }, '1h');
    const first = await verify(`Bearer ${token}`);
    expect(cache.size).toBe(1);
    // the very object the first verification made: answered from the cache
    expect(await verify(`Bearer ${token}`)).toBe(first);
    expect(cache.get(token)).toBe(first);
    expect(cache.get('other')).toBeUndefined();
  });

  it('holds at most its bound: the oldest token goes first', () => {
    const cache = new VerifiedTokenCache(3);
    const exp = Math.floor(Date.now() / 1000) + 600;
    for (const token of ['a', 'b', 'c', 'd', 'e']) cache.set(token, { role: 'admin', userId: token }, exp);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('e')).toEqual({ role: 'admin', userId: 'e' });
  });

  it('holds its bound through the verifier too, and with size 0 remembers nothing', async () => {
    const clock = clockAt(Date.now());
    const tokens = await Promise.all([1, 2, 3, 4].map((n) => signToken(SECRET, { role: 'admin', sub: `u${n}` }, '1h')));
    const cache = new VerifiedTokenCache(0);
    cache.set(tokens[0], { role: 'admin', userId: 'u1' }, Math.floor(clock.now / 1000) + 3600);
    expect(cache.size).toBe(0);
    const kept = new VerifiedTokenCache(2, clock.read);
    const bounded = createTokenVerifier({ AUTH_JWT_SECRET: SECRET }, { now: clock.read, cache: kept });
    for (const token of tokens) await expect(bounded(`Bearer ${token}`)).resolves.toMatchObject({ role: 'admin' });
    expect(kept.size).toBe(2);
    expect(kept.get(tokens[0])).toBeUndefined();
    expect(kept.get(tokens[3])).toMatchObject({ userId: 'u4' });
    // every token is still answered correctly after it was evicted
    for (const token of tokens) await expect(bounded(`Bearer ${token}`)).resolves.toMatchObject({ role: 'admin' });
  });

  it('checks a remembered token again after a minute even when it expires later', () => {
    const clock = clockAt(1_700_000_000_000);
    const cache = new VerifiedTokenCache(10, clock.read);
    cache.set('t', { role: 'admin', userId: 'u' }, Math.floor(clock.now / 1000) + 3600);
    clock.now += VERIFIED_TOKEN_MAX_AGE_MS - 1;
    expect(cache.get('t')).toEqual({ role: 'admin', userId: 'u' });
    clock.now += 1;
    expect(cache.get('t')).toBeUndefined();
  });

  it('does not remember a refused token, and a cached caller cannot be changed by whoever got it', async () => {
    const bad = `Bearer ${await signToken('another-secret-of-enough-length', { role: 'admin' })}`;
    expect(await codeAndMessage(verify(bad))).toEqual(['UNAUTHENTICATED', 'invalid token']);
    expect(await codeAndMessage(verify(bad))).toEqual(['UNAUTHENTICATED', 'invalid token']);
    const header = `Bearer ${await signToken(SECRET, { role: 'merchant', sub: 'u', merchantId: 'm1' })}`;
    const first = (await verify(header)) as { merchantId: string };
    expect(() => (first.merchantId = 'm2')).toThrow();
    await expect(verify(header)).resolves.toEqual({ role: 'merchant', userId: 'u', merchantId: 'm1' });
  });
});

describe("a store token's store must be its merchant's (storeOwner)", () => {
  /** Tenancy as the verifier sees it: store → merchant, counting every question and holding them while `held`. */
  function tenancyOf(stores: Record<string, string>) {
    const tenancy = {
      asked: [] as string[],
      down: false,
      held: undefined as Promise<void> | undefined,
      lookup: (async (storeId) => {
        tenancy.asked.push(storeId);
        if (tenancy.held) await tenancy.held;
        if (tenancy.down) throw new AppError('tenancy cannot be reached to look up store x; nothing was changed', 'TENANCY_UNAVAILABLE');
        return stores[storeId] ?? null;
      }) as StoreOwnerLookup,
    };
    return tenancy;
  }
  const storeToken = (merchantId: string, storeId: string, expiresIn: string | number = '1h') =>
    signToken(SECRET, { role: 'store', sub: 'u', merchantId, storeId }, expiresIn).then((token) => `Bearer ${token}`);

  it('accepts a store of the merchant, asking tenancy once: the second request is answered from the cache', async () => {
    const tenancy = tenancyOf({ S1: 'M1' });
    const verify = createTokenVerifier({ AUTH_JWT_SECRET: SECRET }, { storeOwner: tenancy.lookup });
    const header = await storeToken('M1', 'S1');
    const first = await verify(header);
    expect(first).toEqual({ role: 'store', userId: 'u', merchantId: 'M1', storeId: 'S1' });
    expect(await verify(header)).toBe(first);
    expect(tenancy.asked).toEqual(['S1']);
  });

  it("refuses another merchant's store and an unknown store alike, UNAUTHENTICATED, and asks again next time", async () => {
    const tenancy = tenancyOf({ S1: 'M1', S2: 'M2' });
    const verify = createTokenVerifier({ AUTH_JWT_SECRET: SECRET }, { storeOwner: tenancy.lookup });
    const foreign = await storeToken('M1', 'S2');
    const unknown = await storeToken('M1', 'S9');
    for (const header of [foreign, unknown, foreign]) expect(await codeAndMessage(verify(header))).toEqual(['UNAUTHENTICATED', STORE_NOT_OF_MERCHANT]);
    // nothing in the message says whose the store is, or whether it exists
    expect(STORE_NOT_OF_MERCHANT).not.toMatch(/M2|S2|exist/);
    expect(tenancy.asked).toEqual(['S2', 'S9', 'S2']);
  });

  it('asks only for store tokens', async () => {
    const tenancy = tenancyOf({});
    const verify = createTokenVerifier({ AUTH_JWT_SECRET: SECRET }, { storeOwner: tenancy.lookup });
    for (const claims of [{ role: 'admin' }, { role: 'service' }, { role: 'merchant', merchantId: 'M1' }] as const) {
      await expect(verify(`Bearer ${await signToken(SECRET, claims)}`)).resolves.toMatchObject({ role: claims.role });
    }
    expect(tenancy.asked).toEqual([]);
  });

  it('fails closed with a retryable TENANCY_UNAVAILABLE when tenancy cannot answer, and accepts the token once it can', async () => {
    const tenancy = tenancyOf({ S1: 'M1' });
    const verify = createTokenVerifier({ AUTH_JWT_SECRET: SECRET }, { storeOwner: tenancy.lookup });
    const header = await storeToken('M1', 'S1');
    tenancy.down = true;
    const refusal = await verify(header).catch((error: AppError) => error);
    expect(refusal).toBeInstanceOf(AppError);
    expect((refusal as AppError).extensions).toMatchObject({ code: 'TENANCY_UNAVAILABLE', retryable: true });
    // the store's id and tenancy's address are not in the answer
    expect((refusal as AppError).message).not.toMatch(/S1|http/);
    tenancy.down = false;
    await expect(verify(header)).resolves.toMatchObject({ storeId: 'S1' });
    expect(tenancy.asked).toEqual(['S1', 'S1']);
  });

  it("answers TENANCY_UNAVAILABLE, not tenancy's own code, when tenancy refuses the question (its database down)", async () => {
    const verify = createTokenVerifier(
      { AUTH_JWT_SECRET: SECRET },
      { storeOwner: async () => { throw new AppError('the database is unavailable at the moment; retry the request', 'DATABASE_UNAVAILABLE', { retryable: true }, 503); } },
    );
    const refusal = await verify(await storeToken('M1', 'S1')).catch((error: AppError) => error);
    expect((refusal as AppError).extensions).toMatchObject({ code: 'TENANCY_UNAVAILABLE', retryable: true });
  });

  it('makes one lookup for concurrent first requests with the same token, and shares a refusal the same way', async () => {
    const tenancy = tenancyOf({ S1: 'M1', S2: 'M2' });
    const verify = createTokenVerifier({ AUTH_JWT_SECRET: SECRET }, { storeOwner: tenancy.lookup });
    let release!: () => void;
    tenancy.held = new Promise((resolve) => (release = resolve));
    const [good, bad] = [await storeToken('M1', 'S1'), await storeToken('M1', 'S2')];
    const answers = Promise.all([...Array(5)].flatMap(() => [verify(good), codeAndMessage(verify(bad))]));
    // every request is waiting on the two lookups before tenancy answers
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const settled = await answers;
    expect(tenancy.asked.sort()).toEqual(['S1', 'S2']);
    expect(settled.filter((_, i) => i % 2 === 0)).toEqual(Array(5).fill({ role: 'store', userId: 'u', merchantId: 'M1', storeId: 'S1' }));
    expect(settled.filter((_, i) => i % 2 === 1)).toEqual(Array(5).fill(['UNAUTHENTICATED', STORE_NOT_OF_MERCHANT]));
  });

  it('confirms a cached store token again once the cache checks it again, and never after it expired', async () => {
    const clock = { now: Date.now() };
    const tenancy = tenancyOf({ S1: 'M1' });
    const verify = createTokenVerifier({ AUTH_JWT_SECRET: SECRET }, { now: () => clock.now, storeOwner: tenancy.lookup });
    const header = await storeToken('M1', 'S1', '90s');
    await verify(header);
    await verify(header);
    expect(tenancy.asked).toHaveLength(1);
    clock.now += VERIFIED_TOKEN_MAX_AGE_MS;
    await verify(header);
    expect(tenancy.asked).toHaveLength(2);
    clock.now += 31_000;
    expect(await codeAndMessage(verify(header))).toEqual(['UNAUTHENTICATED', 'token expired']);
    expect(tenancy.asked).toHaveLength(2);
  });
});
