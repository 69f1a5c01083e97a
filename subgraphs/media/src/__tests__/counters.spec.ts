import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { billingSubgraph } from '@tiergraph/billing';
import { repairUsageCounter, usageCounterDrift, type RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTestDatabase, createWorld, expectData, overrideLimit, postGraphQL, startTestSubgraphs, withInsertsHeld, type TestDatabase, type World } from '@tiergraph/testkit';
import { DEFAULT_MEDIA_SETTINGS } from '../domain/settings';
import { createMediaSubgraph, STORED_BYTES } from '../index';
import { jpeg } from './images';

/** Issue 12: max_storage_mb read from media.stored_bytes_counts, kept in the writing transaction; counter = sum(rows). */
let db: TestDatabase;
let root: string;
let running: Record<'billing' | 'tenancy' | 'media', RunningSubgraph>;
let origin: string;

beforeAll(async () => {
  db = await createTestDatabase();
  root = await mkdtemp(join(tmpdir(), 'media-counters-'));
  const media = createMediaSubgraph({ cors: { origins: [], credentials: false }, storage: { ...DEFAULT_MEDIA_SETTINGS, root, publicUrl: undefined } });
  running = await startTestSubgraphs({ billing: billingSubgraph, tenancy: tenancySubgraph, media }, db.url);
  origin = `http://127.0.0.1:${running.media.port}`;
});

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await db?.drop();
  if (root) await rm(root, { recursive: true, force: true });
});

const world = () => createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });

async function upload(w: World, storeId: string, data: Buffer, filename: string): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('storeId', storeId);
  form.append('file', new Blob([data], { type: 'image/jpeg' }), filename);
  const response = await fetch(`${origin}/media/upload`, { method: 'POST', body: form, headers: { authorization: `Bearer ${w.tokens.admin}` } });
  return { status: response.status, body: await response.json() };
}

const DELETE = `mutation($id: ID!) { deleteMedia(id: $id) }`;
const USAGE = `query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { mediaUsage { code current } } } }`;
const media = (w: World, query: string, variables: Record<string, unknown>) => postGraphQL(running.media.url, { query, variables }, { token: w.tokens.admin });

async function counted(merchantId: string): Promise<{ counter: number; rows: number }> {
  const [row] = await running.media.dataSource.query(
    `SELECT (SELECT coalesce(sum(n), 0)::int FROM media.stored_bytes_counts WHERE merchant_id = $1) AS counter,
            (SELECT coalesce(sum(stored_bytes), 0)::int FROM media.media_files WHERE merchant_id = $1) AS rows`,
    [merchantId],
  );
  return row;
}

describe('media.stored_bytes_counts', () => {
  it('equals sum(stored_bytes) after 12 uploads and 4 deletes race, and usage reads it', async () => {
    const w = await world();
    const photo = await jpeg(200, 150);
    const existing: string[] = [];
    for (let i = 0; i < 4; i++) existing.push((await upload(w, w.s1, photo, `pre${i}.jpg`)).body.id);
    const results = await withInsertsHeld(db.url, 'media.media_files', 5, () =>
      Promise.all([
        ...Array.from({ length: 12 }, (_, i) => upload(w, i % 2 ? w.s1 : w.s1b, photo, `race${i}.jpg`).then((a) => a.status)),
        ...existing.map((id) => expectData(media(w, DELETE, { id })).then((d) => (d.deleteMedia ? 200 : 0))),
      ]),
    );
    expect(results.filter((s) => s !== 201 && s !== 200)).toEqual([]);
    const after = await counted(w.m1);
    expect(after.counter).toBe(after.rows);
    expect(after.rows).toBeGreaterThan(0);
    expect(await usageCounterDrift(running.media.dataSource, STORED_BYTES)).toEqual([]);
    const usage = await expectData(media(w, USAGE, { r: [{ __typename: 'MerchantSubscription', merchantId: w.m1, platformId: w.platformId }] }));
    expect(usage._entities[0].mediaUsage).toEqual([{ code: 'max_storage_mb', current: Math.ceil(after.rows / (1024 * 1024)) }]);
  });

  it('is unchanged by an upload whose insert fails after the file row (rolled back) and by a refused one', async () => {
    const w = await world();
    const photo = await jpeg(200, 150);
    expect((await upload(w, w.s1, photo, 'kept.jpg')).status).toBe(201);
    const before = await counted(w.m1);
    // the file row is inserted (its statement's trigger has counted it), then the variants fail: all rolls back
    await running.media.dataSource.query(`
      CREATE FUNCTION media.refuse_variants() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
      CREATE TRIGGER refuse_variants BEFORE INSERT ON media.media_variants FOR EACH ROW EXECUTE FUNCTION media.refuse_variants();`);
    try {
      expect((await upload(w, w.s1, photo, 'doomed.jpg')).status).toBe(500);
    } finally {
      await running.media.dataSource.query(`DROP TRIGGER refuse_variants ON media.media_variants; DROP FUNCTION media.refuse_variants();`);
    }
    expect(await counted(w.m1)).toEqual(before);
    await overrideLimit(running.billing.url, w.m1, w.platformId, 'max_storage_mb', 0);
    expect((await upload(w, w.s1, photo, 'refused.jpg')).status).toBe(403);
    expect(await counted(w.m1)).toEqual(before);
  });

  it('is rebuilt from the rows by repairUsageCounter, idempotently', async () => {
    const w = await world();
    const photo = await jpeg(200, 150);
    for (let i = 0; i < 2; i++) expect((await upload(w, i ? w.s1 : w.s1b, photo, `r${i}.jpg`)).status).toBe(201);
    const ds = running.media.dataSource;
    await ds.query(`UPDATE media.stored_bytes_counts SET n = n * 3 WHERE merchant_id = $1`, [w.m1]);
    await ds.query(`INSERT INTO media.stored_bytes_counts (merchant_id, platform_id, n) VALUES (gen_random_uuid(), $1, 5)`, [w.platformId]);
    expect((await usageCounterDrift(ds, STORED_BYTES)).length).toBe(2);
    expect(await repairUsageCounter(ds, STORED_BYTES)).toBe(2);
    expect(await usageCounterDrift(ds, STORED_BYTES)).toEqual([]);
    expect(await repairUsageCounter(ds, STORED_BYTES)).toBe(0);
    const after = await counted(w.m1);
    expect(after.counter).toBe(after.rows);
  });
});
