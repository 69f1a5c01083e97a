import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { billingSubgraph } from '@tiergraph/billing';
import { catalogSubgraph } from '@tiergraph/catalog';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import { createWorld, freePort, postGraphQL, startTestSubgraphs, tokenFor, type World } from '@tiergraph/testkit';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../scripts/lib/embedded-postgres';
import { migrateAll } from '../scripts/lib/migrate';

/**
 * PostgreSQL restarted under writes (issue 11): this suite runs its own embedded server, since it stops it — the
 * test run's shared one serves the other suites. Eight writers create products through catalog (which asks billing
 * for the limit, both on this server) while the server goes down and comes back. Afterwards every create that
 * answered a product is a row, and no create that answered an error left one; writes succeed again after the restart.
 * A refused create says why in a code a client can act on: DATABASE_UNAVAILABLE (retryable) when catalog's own
 * statements could not reach PostgreSQL, ENTITLEMENTS_UNAVAILABLE when billing (on the same server) could not answer
 * the limit — never INTERNAL_SERVER_ERROR.
 */
let parent: string;
let port: number;
let postgres: EmbeddedPostgresHandle;
let running: Record<'tenancy' | 'billing' | 'catalog', RunningSubgraph>;
let world: World;

const startPostgres = () =>
  startEmbeddedPostgres({ dataDir: join(parent, 'data'), port, persistent: true, relocate: true });

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'tiergraph-pg-restart-'));
  chmodSync(parent, 0o755); // as root, postgres runs as the `postgres` user and must enter it
  port = await freePort();
  postgres = await startPostgres();
  await postgres.createDatabase('restart');
  await migrateAll(postgres.urlFor('restart'));
  running = await startTestSubgraphs({ tenancy: tenancySubgraph, billing: billingSubgraph, catalog: catalogSubgraph }, postgres.urlFor('restart'));
  world = await createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await postgres?.stop();
  if (postgres && !postgres.dataDir.startsWith(parent)) rmSync(postgres.dataDir, { recursive: true, force: true });
  if (parent) rmSync(parent, { recursive: true, force: true });
});

const createProduct = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id sku } }`;

it('keeps every acknowledged create and no refused one across a PostgreSQL restart, and heals', async () => {
  const token = await tokenFor({ role: 'merchant', merchantId: world.m1 });
  // essential allows 200 products; this test is about durability, not the limit
  await postGraphQL(running.billing.url, {
    query: `mutation($m: ID!, $p: ID!, $input: UpdateMerchantSubscriptionInput!) { updateMerchantSubscription(merchantId: $m, platformId: $p, input: $input) { id } }`,
    variables: { m: world.m1, p: world.platformId, input: { tierCode: 'enterprise' } },
  }, { token: world.tokens.admin });

  const succeeded: Array<{ sku: string; id: string; after: boolean }> = [];
  const failed: Array<{ sku: string; code: string; retryable: unknown }> = [];
  let restarted = false;
  let stop = false;
  const run = randomUUID().slice(0, 6);
  let n = 0;
  const writer = async () => {
    while (!stop) {
      const sku = `R-${run}-${n++}`;
      const response = await postGraphQL(running.catalog.url, { query: createProduct, variables: { input: { storeId: world.s1, sku, name: 'Restart', priceCents: 100 } } }, { token }).catch(
        (error: Error) => ({ data: null, errors: [{ message: error.message, extensions: { code: 'TRANSPORT' } as Record<string, unknown> }] }),
      );
      const product = response.data?.createProduct;
      if (product) succeeded.push({ sku, id: product.id, after: restarted });
      else failed.push({ sku, code: String(response.errors?.[0]?.extensions?.code), retryable: response.errors?.[0]?.extensions?.retryable });
    }
  };
  const writers = Array.from({ length: 8 }, writer);

  const until = (what: string, check: () => boolean, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + ms;
      const poll = setInterval(() => {
        if (check()) resolve(clearInterval(poll));
        else if (Date.now() > deadline) reject(new Error(`${what} within ${ms} ms`, { cause: clearInterval(poll) }));
      }, 20);
    });
  await until('50 creates before the restart', () => succeeded.length >= 50, 30_000);
  await postgres.stop();
  const failedBefore = failed.length;
  await until('a create failing while PostgreSQL is down', () => failed.length > failedBefore, 10_000);
  postgres = await startPostgres();
  restarted = true;
  await until('50 creates after the restart', () => succeeded.filter((s) => s.after).length >= 50, 30_000);
  stop = true;
  await Promise.all(writers);

  const rows: Array<{ id: string; sku: string }> = await running.catalog.dataSource.query(
    `SELECT id, sku FROM catalog.products WHERE store_id = $1 AND sku LIKE $2`,
    [world.s1, `R-${run}-%`],
  );
  const stored = new Map(rows.map((r) => [r.sku, r.id]));
  expect(failed.length).toBeGreaterThan(0);
  // every acknowledged create is a row with the id it answered …
  expect(succeeded.filter((s) => stored.get(s.sku) !== s.id)).toEqual([]);
  // … and nothing else is
  expect(rows.length).toBe(succeeded.length);
  expect(failed.filter((f) => stored.has(f.sku))).toEqual([]);
  // a refused create answered a coded error a client can retry on, never INTERNAL_SERVER_ERROR, a stack or a hang
  expect(failed.filter((f) => f.code !== 'DATABASE_UNAVAILABLE' && f.code !== 'ENTITLEMENTS_UNAVAILABLE')).toEqual([]);
  expect(failed.filter((f) => f.retryable !== true)).toEqual([]);
  expect(failed.some((f) => f.code === 'DATABASE_UNAVAILABLE')).toBe(true);
}, 120_000);
