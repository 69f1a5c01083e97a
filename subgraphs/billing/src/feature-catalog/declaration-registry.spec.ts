import type { RunningSubgraph } from '@tiergraph/runtime';
import { createTestDatabase, startTestSubgraph, type TestDatabase } from '@tiergraph/testkit';
import { billingSubgraph } from '../index';
import { DeclarationRegistry } from './declaration-registry';
import { FeatureCatalogStore } from './feature-catalog-store';

/** The registry over billing's own table: one read and one map per change, both dropped by invalidate. */
describe('DeclarationRegistry', () => {
  let db: TestDatabase;
  let running: RunningSubgraph;

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestSubgraph(billingSubgraph, db.url);
  });

  afterAll(async () => {
    await running?.stop();
    await db?.drop();
  });

  const declaration = (code: string) => ({ code, name: code, description: 'd', category: 'spec', featureType: 'QUANTITATIVE' as const, scope: 'MERCHANT' as const, unit: 'things', displayOrder: 0 });

  it('answers byCode with the one map of the declarations it read, until invalidate makes it read again', async () => {
    const store = new FeatureCatalogStore(running.dataSource);
    const reads = jest.spyOn(store, 'declarations');
    const registry = new DeclarationRegistry(store);
    expect(await store.replaceDeclarations('registry-spec', [declaration('spec_first')])).toEqual({ taken: [], inUse: [] });

    const first = await registry.byCode();
    expect(first.get('spec_first')).toMatchObject({ code: 'spec_first', owner: 'registry-spec' });
    expect(await registry.byCode()).toBe(first);
    expect((await registry.all()).map((d) => d.code)).toEqual([...first.keys()]);
    expect(reads).toHaveBeenCalledTimes(1);

    await store.replaceDeclarations('registry-spec', [declaration('spec_first'), declaration('spec_second')]);
    expect(await registry.byCode()).toBe(first);
    registry.invalidate();
    const second = await registry.byCode();
    expect(second).not.toBe(first);
    expect([second.has('spec_second'), first.has('spec_second')]).toEqual([true, false]);
    expect(await registry.byCode()).toBe(second);
    expect(reads).toHaveBeenCalledTimes(2);
  });
});
