import { entities as billingEntities } from '@tiergraph/billing';
import { entities } from '@tiergraph/tenancy';
import { createTestDatabase, type TestDatabase } from '@tiergraph/testkit';
import type { DataSource, ObjectLiteral } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { createSubgraphDataSource, entityFromJson, entityJsonSql, findByKeys, findByKeysWith, findByPairs, findGroupedByKeys, findGroupedByPairs, type LoaderSql } from './db';

const [PlatformEntity] = entities;

describe('findByKeys', () => {
  let database: TestDatabase;
  let db: DataSource;
  let ids: string[];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createSubgraphDataSource({ url: database.url, schema: 'tenancy', entities, migrations: [], poolSize: 2 });
    await db.initialize();
    const inserted: Array<{ id: string }> = await db.query(
      `INSERT INTO tenancy.platforms (code, name) VALUES ('alpha', 'Alpha'), ('beta', 'Beta') RETURNING id`,
    );
    ids = inserted.map((row) => row.id);
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('returns the rows in the order of the keys, null where there is none', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const rows = await findByKeys(db, PlatformEntity, 'id', [ids[1], missing, ids[0]]);
    expect(rows.map((row) => row?.code ?? null)).toEqual(['beta', null, 'alpha']);
  });

  it('finds a row by its id in upper case (PostgreSQL answers in lower case)', async () => {
    expect(ids[0]).toBe(ids[0].toLowerCase());
    const rows = await findByKeys(db, PlatformEntity, 'id', [ids[0].toUpperCase(), ids[1], ids[1].toUpperCase()]);
    expect(rows.map((row) => row?.code ?? null)).toEqual(['alpha', 'beta', 'beta']);
  });

  it('matches string codes regardless of case', async () => {
    const rows = await findByKeys(db, PlatformEntity, 'code', ['ALPHA', 'beta', 'Gamma']);
    expect(rows.map((row) => row?.name ?? null)).toEqual(['Alpha', 'Beta', null]);
  });
});

describe('the batched loaders read the same rows and objects with prepared statements as with TypeORM (DB_LOADER_SQL)', () => {
  const billingEntity = (name: string) => billingEntities.find((e) => (e as { name?: string }).name === name) as new () => ObjectLiteral;
  let database: TestDatabase;
  let dbs: Record<LoaderSql, DataSource>;
  const merchantId = '11111111-1111-4111-8111-111111111111';
  const platformId = '22222222-2222-4222-8222-222222222222';
  let subscriptionId: string;
  let tierId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const open = async (loaderSql: LoaderSql) => {
      const db = createSubgraphDataSource({ url: database.url, schema: 'billing', entities: [...entities, ...billingEntities], migrations: [], poolSize: 2, loaderSql });
      return db.initialize();
    };
    dbs = { prepared: await open('prepared'), typeorm: await open('typeorm') };
    const db = dbs.typeorm;
    [{ id: tierId }] = await db.query(`SELECT id FROM billing.subscription_tiers WHERE code = 'business'`);
    [{ id: subscriptionId }] = await db.query(
      `INSERT INTO billing.merchant_subscriptions (merchant_id, platform_id, merchant_name, tier_id, status, billing_cycle, current_period_start, current_period_end, trial_ends_at, stripe_customer_id)
       VALUES ($1, $2, 'M', $3, 'TRIAL', 'MONTHLY', '2026-11-01T10:00:00Z', '2026-12-01T10:00:00Z', '2026-11-15T00:00:00.123Z', NULL) RETURNING id`,
      [merchantId, platformId, tierId],
    );
    await db.query(
      `INSERT INTO billing.subscription_history (subscription_id, change, to_tier_code, to_status, actor, changed_at)
       VALUES ($1, 'CREATED', 'business', 'TRIAL', 'admin', '2026-11-01T10:00:00Z'), ($1, 'STATUS_CHANGE', NULL, 'ACTIVE', 'admin', '2026-11-01T10:00:00Z')`,
      [subscriptionId],
    );
    await db.query(
      `INSERT INTO billing.merchant_feature_overrides (merchant_id, platform_id, feature_code, limit_value, is_enabled) VALUES ($1, $2, 'max_products', 7, true), ($1, $2, 'api_access', NULL, false)`,
      [merchantId, platformId],
    );
  });

  afterAll(async () => {
    await Promise.all(Object.values(dbs ?? {}).map((db) => db.destroy()));
    await database?.drop();
  });

  const reads: Array<[string, (db: DataSource) => Promise<unknown[]>]> = [
    ['rows by id (findByKeys)', (db) => findByKeys(db, billingEntity('MerchantSubscriptionEntity'), 'id', [subscriptionId, '00000000-0000-4000-8000-000000000000'])],
    ['rows by a property whose column is named otherwise (findByKeys, merchantId → merchant_id)', (db) => findByKeys(db, billingEntity('MerchantSubscriptionEntity'), 'merchantId', [merchantId])],
    ['rows by code (findByKeys, text key)', (db) => findByKeys(db, billingEntity('SubscriptionTierEntity'), 'code', ['business', 'ENTERPRISE', 'none'])],
    ['one row per merchant and platform (findByPairs)', (db) => findByPairs(db, billingEntity('MerchantSubscriptionEntity') as never, [{ merchantId, platformId }, { merchantId: platformId, platformId }])],
    ['children per parent, ordered, a select:false column left out (findGroupedByKeys)', (db) =>
      findGroupedByKeys(db, billingEntity('SubscriptionHistoryEntity'), { column: 'subscription_id', property: 'subscriptionId' }, [subscriptionId], [['e.changed_at', 'DESC'], ['e.seq', 'DESC']])],
    ['children per merchant and platform (findGroupedByPairs)', (db) => findGroupedByPairs(db, billingEntity('MerchantFeatureOverrideEntity') as never, [{ merchantId, platformId }], [['e.feature_code', 'ASC']])],
    ['rows by id with more values read beside them, ids in upper case (findByKeysWith)', (db) =>
      findByKeysWith(db, billingEntity('MerchantSubscriptionEntity'), 'id', [subscriptionId.toUpperCase(), '00000000-0000-4000-8000-000000000000'], {
        overrides: `SELECT json_agg(o.feature_code ORDER BY o.feature_code) FROM billing.merchant_feature_overrides o WHERE o.merchant_id = e.merchant_id`,
        history: `SELECT count(*)::int FROM billing.subscription_history h WHERE h.subscription_id = e.id`,
      })],
    ['limits of a tier (findGroupedByKeys)', (db) => findGroupedByKeys(db, billingEntity('TierFeatureLimitEntity'), { column: 'tier_id', property: 'tierId' }, [tierId], [['e.feature_code', 'ASC']])],
  ];

  it.each(reads)('%s', async (_what, read) => {
    // the prepared path goes straight to the pool: TypeORM's query runner sees none of its statements
    const runnerQueries = jest.spyOn(PostgresQueryRunner.prototype, 'query');
    const prepared = await read(dbs.prepared);
    expect(runnerQueries).not.toHaveBeenCalled();
    runnerQueries.mockRestore();
    const viaTypeorm = await read(dbs.typeorm);
    const rows = (list: unknown[]): unknown[] => list.flatMap((r) => (Array.isArray(r) ? rows(r) : [r])).filter((r) => r !== null);
    expect(rows(viaTypeorm).length).toBeGreaterThan(0);
    // same values, same classes (toStrictEqual compares prototypes), the same undefined for what is not selected
    expect(prepared).toStrictEqual(viaTypeorm);
    for (const row of rows(prepared)) expect(Object.keys(row as object).sort()).toEqual(Object.keys(rows(viaTypeorm)[0] as object).sort());
  });

  it('child rows folded into a sub-select as JSON come back as the entities getMany reads (entityJsonSql, entityFromJson)', async () => {
    const db = dbs.typeorm;
    const Override = billingEntity('MerchantFeatureOverrideEntity');
    const [{ folded }] = await db.query(
      `SELECT (SELECT json_agg(${entityJsonSql(db, Override, 'o')} ORDER BY o.feature_code) FROM billing.merchant_feature_overrides o WHERE o.merchant_id = $1) AS folded`,
      [merchantId],
    );
    const viaTypeorm = await db.getRepository(Override).createQueryBuilder('e').where('e.merchant_id = :merchantId', { merchantId }).orderBy('e.feature_code').getMany();
    expect(viaTypeorm).toHaveLength(2);
    // same values (a NULL limit included), same class, same keys
    expect((folded as Array<Record<string, unknown>>).map(entityFromJson(db, Override))).toStrictEqual(viaTypeorm);
  });

  it('refuses to fold an entity with a column JSON would turn into text (a timestamptz)', () => {
    expect(() => entityJsonSql(dbs.typeorm, billingEntity('SubscriptionHistoryEntity'), 'h')).toThrow(/SubscriptionHistoryEntity has columns JSON does not carry/);
  });
});
