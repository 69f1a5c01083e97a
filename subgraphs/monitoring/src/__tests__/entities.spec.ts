import { randomUUID } from 'node:crypto';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createTenants, createTestDatabase, errorCodes, postGraphQL, startTestSubgraphs, tokenFor, type TestDatabase, type Tenants, platformMetricsOf, PLATFORM_METRICS_ACCESS } from '@tiergraph/testkit';
import { monitoringSubgraph } from '../index';

const ENTITIES = `query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on CapacitySnapshot { id snapshotDate totalStores activeStores totalProducts totalOrdersMonth totalTeamMembers createdAt }
  }
}`;

const ref = (id: string) => ({ __typename: 'CapacitySnapshot', id });

describe('monitoring: the CapacitySnapshot entity', () => {
  let db: TestDatabase;
  let running: RunningSubgraph;
  let stopTenancy: (() => Promise<void>) | undefined;
  // real tenants: a store token is accepted only for a store of its merchant (tenancy says which)
  let tenants: Tenants;
  let yesterday: string;
  let today: string;

  async function insertSnapshot(date: string, totals: Partial<Record<'total_stores' | 'active_stores' | 'total_products' | 'total_orders_month' | 'total_team_members', number>> = {}): Promise<string> {
    const columns = Object.keys(totals);
    const [row]: Array<{ id: string }> = await running.dataSource.query(
      `INSERT INTO monitoring.capacity_snapshots (snapshot_date${columns.map((c) => `, ${c}`).join('')})
       VALUES ($1${columns.map((_, i) => `, $${i + 2}`).join('')}) RETURNING id`,
      [date, ...Object.values(totals)],
    );
    return row.id;
  }

  const resolve = async (ids: string[], token?: string) => postGraphQL(running.url, { query: ENTITIES, variables: { r: ids.map(ref) } }, { token });

  beforeAll(async () => {
    db = await createTestDatabase();
    let tenancy: RunningSubgraph;
    ({ tenancy, monitoring: running } = await startTestSubgraphs({ tenancy: tenancySubgraph, monitoring: monitoringSubgraph }, db.url));
    stopTenancy = () => tenancy.stop();
    tenants = await createTenants(tenancy.url);
    yesterday = await insertSnapshot('2024-11-20');
    today = await insertSnapshot('2024-11-21', { total_stores: 12, active_stores: 10, total_products: 340, total_orders_month: 77, total_team_members: 5 });
  });

  afterAll(async () => {
    await running?.stop();
    await stopTenancy?.();
    await db?.drop();
  });

  it('lets an admin resolve snapshots in the order asked, with every field and zero defaults', async () => {
    const res = await resolve([today, yesterday], await tokenFor({ role: 'admin' }));
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities).toEqual([
      { id: today, snapshotDate: '2024-11-21', totalStores: 12, activeStores: 10, totalProducts: 340, totalOrdersMonth: 77, totalTeamMembers: 5, createdAt: expect.any(String) },
      { id: yesterday, snapshotDate: '2024-11-20', totalStores: 0, activeStores: 0, totalProducts: 0, totalOrdersMonth: 0, totalTeamMembers: 0, createdAt: expect.any(String) },
    ]);
  });

  it('lets a service resolve snapshots', async () => {
    const res = await resolve([yesterday], await tokenFor({ role: 'service' }));
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities).toEqual([expect.objectContaining({ id: yesterday, snapshotDate: '2024-11-20' })]);
  });

  it('refuses merchants and store users with FORBIDDEN and no data, whether or not the snapshot exists', async () => {
    for (const token of [tenants.tokens.merchant1, tenants.tokens.store1]) {
      const res = await resolve([today, randomUUID()], token);
      expect(errorCodes(res)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
      expect(res.data?._entities).toEqual([null, null]);
    }
  });

  it('answers NOT_FOUND for an unknown uuid and for an id that is no uuid', async () => {
    const res = await resolve([randomUUID(), 'today'], await tokenFor({ role: 'admin' }));
    expect(errorCodes(res)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(res.data?._entities).toEqual([null, null]);
  });

  it('owns the PlatformMetrics key: admins and services resolve the one id, tenants are refused', async () => {
    const { access, figures } = await platformMetricsOf(running.url, '', { merchant: tenants.tokens.merchant1, store: tenants.tokens.store1 });
    expect(access).toEqual(PLATFORM_METRICS_ACCESS);
    expect(figures).toEqual({ id: 'platform' });
  });

  it('answers UNAUTHENTICATED (401) without a token', async () => {
    const res = await resolve([today]);
    expect(res.status).toBe(401);
    expect(errorCodes(res)).toEqual(['UNAUTHENTICATED']);
  });

  it('keeps one snapshot per day', async () => {
    await expect(insertSnapshot('2024-11-21')).rejects.toMatchObject({ constraint: 'capacity_snapshots_date_key' });
  });
});
