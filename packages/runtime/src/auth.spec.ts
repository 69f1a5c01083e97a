import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { canManageStore, canReadMerchant, canReadStore, createTokenVerifier, serviceTokenProvider, signToken, VERIFIED_TOKEN_MAX_AGE_MS, VerifiedTokenCache, type Caller } from './auth';

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
