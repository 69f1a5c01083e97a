import { createTestDatabase, waitForLockWaiters, type TestDatabase } from '@tiergraph/testkit';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { Entitlements, EntitlementSource } from '@tiergraph/runtime';
import type { EntityManager } from 'typeorm';
import { insertWithinLimit, limitForCreating } from './limits';

/**
 * The one straight hop every enforcing subgraph takes, on a table of its own in a real PostgreSQL: the service's
 * decision (limitForCreating), then the store's insertWithinLimit (in one transaction the feature lock, the count
 * and check, the insert), the very function catalog, orders, tenancy and media call.
 */
let database: TestDatabase;
let db: DataSource;

const POOL = 4;

beforeAll(async () => {
  database = await createTestDatabase();
  db = new DataSource({ type: 'postgres', url: database.url, extra: { max: POOL } });
  await db.initialize();
  await db.query(`CREATE TABLE public.limited (id serial PRIMARY KEY, merchant_id text NOT NULL, platform_id text NOT NULL, label text NOT NULL)`);
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

interface CreateOptions<T> {
  dataSource: DataSource;
  entitlements: EntitlementSource;
  featureCode: string;
  merchantId: string;
  platformId: string;
  count: (manager: EntityManager) => Promise<number>;
  create: (manager: EntityManager) => Promise<T>;
}

/** As a service and its store call it: the decision first, then insertWithinLimit. */
async function createWithinLimit<T>(options: CreateOptions<T>): Promise<T> {
  const pair = { merchantId: options.merchantId, platformId: options.platformId };
  const { limit } = await limitForCreating(options.entitlements, options.featureCode, pair);
  return insertWithinLimit(options.dataSource, {
    featureCode: options.featureCode,
    pair,
    limit,
    measure: async (manager) => ({ used: await options.count(manager) }),
    insert: options.create,
  });
}

function plan(features: Entitlements['features'], status: Entitlements['status'] = 'ACTIVE', active = true): EntitlementSource & { calls: number } {
  const source = {
    calls: 0,
    async get(): Promise<Entitlements> {
      source.calls++;
      return { status, active, periodStart: null, periodEnd: null, features };
    },
  };
  return source;
}

async function rows(merchantId: string): Promise<number> {
  const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM public.limited WHERE merchant_id = $1`, [merchantId]);
  return n;
}

/** One call of createWithinLimit for `merchantId` whose count lingers in its transaction, so unserialised callers overlap. */
function attempt(merchantId: string, entitlements: EntitlementSource, label: string, featureCode = 'max_things', platformId = 'p') {
  return createWithinLimit({
    dataSource: db,
    entitlements,
    featureCode,
    merchantId,
    platformId,
    count: async (manager) => {
      const [{ n }] = await manager.query(`SELECT count(*)::int AS n FROM public.limited WHERE merchant_id = $1 AND platform_id = $2`, [merchantId, platformId]);
      await manager.query('SELECT pg_sleep(0.05)');
      return n;
    },
    create: async (manager) => {
      const [row] = await manager.query(`INSERT INTO public.limited (merchant_id, platform_id, label) VALUES ($1, $2, $3) RETURNING id`, [merchantId, platformId, label]);
      return row.id as number;
    },
  });
}

describe('limitForCreating and insertWithinLimit', () => {
  it('makes exactly k rows when 3 × the pool size of callers race for k = 2 free slots; the others get FEATURE_LIMIT_REACHED with the counts', async () => {
    const source = plan({ max_things: { limit: 3, enabled: true } });
    await attempt('race', source, 'pre');
    const results = await Promise.allSettled(Array.from({ length: 3 * POOL }, (_, i) => attempt('race', source, `racer-${i}`)));
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(created).toHaveLength(2);
    expect(refused).toHaveLength(3 * POOL - 2);
    for (const error of refused) expect(error.extensions).toEqual({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_things', current: 3, limit: 3 });
    expect(await rows('race')).toBe(3);
  });

  it('waits for the advisory lock of its (feature, merchant, platform) and counts after the holder commits', async () => {
    const source = plan({ max_things: { limit: 1, enabled: true } });
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', ['max_things', 'held:p']);
      const blocked = attempt('held', source, 'blocked');
      blocked.catch(() => undefined);
      // another merchant, another platform or another feature is not held up by this lock
      await attempt('free', source, 'free');
      await attempt('held', source, 'other-platform', 'max_things', 'p2');
      await attempt('held', source, 'other-feature', 'max_others', 'p').catch((e) => e);
      await waitForLockWaiters(holder, 1, 10_000, 'advisory');
      // the holder takes the last slot while the caller waits: the caller must see it
      await holder.query(`INSERT INTO public.limited (merchant_id, platform_id, label) VALUES ('held', 'p', 'holder')`);
      await holder.query('COMMIT');
      await expect(blocked).rejects.toMatchObject({ extensions: { code: 'FEATURE_LIMIT_REACHED', current: 1, limit: 1 } });
    } finally {
      await holder.end();
    }
    const labels = await db.query(`SELECT label FROM public.limited WHERE merchant_id IN ('held', 'free') ORDER BY label`);
    expect(labels.map((r: { label: string }) => r.label)).toEqual(['free', 'holder', 'other-platform']);
  });

  it('refuses an inactive subscription with SUBSCRIPTION_INACTIVE before it counts or creates', async () => {
    const source = plan({ max_things: { limit: null, enabled: true } }, 'CANCELLED', false);
    await expect(attempt('inactive', source, 'x')).rejects.toMatchObject({ extensions: { code: 'SUBSCRIPTION_INACTIVE', status: 'CANCELLED' } });
    expect(await rows('inactive')).toBe(0);
  });

  it('treats a disabled or missing feature as limit 0, and null as unlimited (no count)', async () => {
    for (const features of [{ max_things: { limit: 10, enabled: false } }, {}] as Array<Entitlements['features']>) {
      await expect(attempt('closed', plan(features), 'x')).rejects.toMatchObject({ extensions: { code: 'FEATURE_LIMIT_REACHED', current: 0, limit: 0 } });
    }
    expect(await rows('closed')).toBe(0);
    let counted = 0;
    await createWithinLimit({
      dataSource: db,
      entitlements: plan({ max_things: { limit: null, enabled: true } }),
      featureCode: 'max_things',
      merchantId: 'unlimited',
      platformId: 'p',
      count: async () => ++counted,
      create: (manager) => manager.query(`INSERT INTO public.limited (merchant_id, platform_id, label) VALUES ('unlimited', 'p', 'x')`),
    });
    expect([counted, await rows('unlimited')]).toEqual([0, 1]);
  });

  it('counts and creates in one transaction: a create that fails leaves nothing behind', async () => {
    const source = plan({ max_things: { limit: 5, enabled: true } });
    await expect(
      createWithinLimit({
        dataSource: db,
        entitlements: source,
        featureCode: 'max_things',
        merchantId: 'rollback',
        platformId: 'p',
        count: async () => 0,
        create: async (manager) => {
          await manager.query(`INSERT INTO public.limited (merchant_id, platform_id, label) VALUES ('rollback', 'p', 'half')`);
          throw new Error('second insert failed');
        },
      }),
    ).rejects.toThrow('second insert failed');
    expect(await rows('rollback')).toBe(0);
  });
});
