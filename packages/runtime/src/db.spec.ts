import { entities } from '@tiergraph/tenancy';
import { createTestDatabase, type TestDatabase } from '@tiergraph/testkit';
import type { DataSource } from 'typeorm';
import { createSubgraphDataSource, findByKeys } from './db';

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
