import { writeFileSync } from 'node:fs';
import { ordersInPeriodsSql } from '@tiergraph/orders/src/store/counters';
import { createTestDatabase, type TestDatabase } from '@tiergraph/testkit';
import { Client } from 'pg';
import { generateBenchData } from './generate';

/**
 * Issue 12, item 2: the SQL time of MerchantFeatures' usage reads before (count/sum over the owners' rows) and after
 * (the counter rows), at bench scale, per statement as the loaders send it for one merchant, on one connection,
 * alternating old/new. Also checks that both give the same numbers for every merchant measured.
 *
 *   [BENCH_SCALE=1] npx -y pnpm@10 bench:usage-sql
 *
 * Not part of `pnpm test` (it loads the bench data: about a minute at scale 1): jest's testMatch takes `*.spec.ts`
 * only, and `bench:usage-sql` runs this file through the same jest setup (embedded PostgreSQL, template database).
 */
const run = describe;

const pair = (from: string, aggregate: string, where = '') =>
  `SELECT merchant_id AS a, platform_id AS b, ${aggregate} AS value FROM ${from}
    WHERE (merchant_id, platform_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))${where} GROUP BY merchant_id, platform_id`;
const PERIOD_KEYS = `unnest($3::int[], $1::uuid[], $2::uuid[], $4::timestamptz[], $5::timestamptz[]) AS k(key, merchant_id, platform_id, period_start, period_end)`;

const READS: Array<{ feature: string; before: string; after: string; period?: boolean }> = [
  { feature: 'max_products', before: pair('catalog.products', 'count(*)', ' AND deleted_at IS NULL'), after: pair('catalog.product_counts', 'sum(n)') },
  { feature: 'max_team_members', before: pair('tenancy.store_users', 'count(*)', " AND is_active AND role = 'MEMBER'"), after: pair('tenancy.team_member_counts', 'sum(n)') },
  { feature: 'max_storage_mb', before: pair('media.media_files', 'ceil(sum(stored_bytes) / 1048576::numeric)'), after: pair('media.stored_bytes_counts', 'ceil(sum(n) / 1048576::numeric)') },
  {
    feature: 'max_orders_per_month',
    period: true,
    before: `SELECT k.key, (SELECT count(*) FROM orders.orders o WHERE o.merchant_id = k.merchant_id AND o.platform_id = k.platform_id
                AND o.created_at >= k.period_start AND o.created_at < k.period_end)::int AS n FROM ${PERIOD_KEYS}`,
    after: ordersInPeriodsSql(PERIOD_KEYS),
  },
];

function stats(ms: number[]): { mean: number; p50: number; p95: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p95: at(0.95), max: s[s.length - 1] };
}

run('usage SQL before/after the counters (bench scale)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  }, 60_000);
  afterAll(async () => db?.drop());

  it('measures', async () => {
    const scale = Number(process.env.BENCH_SCALE ?? 1);
    await generateBenchData({ databaseUrl: db.url, seed: 1, scale, log: () => undefined });
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const subscriptions: Array<{ merchant_id: string; platform_id: string; start: Date; end: Date; products: number }> = (
        await client.query(
          `SELECT s.merchant_id, s.platform_id, s.current_period_start AS start, s.current_period_end AS end,
                  (SELECT coalesce(sum(n), 0)::int FROM catalog.product_counts c WHERE c.merchant_id = s.merchant_id) AS products
             FROM billing.merchant_subscriptions s ORDER BY random()`,
        )
      ).rows;
      const largest = [...subscriptions].sort((a, b) => b.products - a.products).slice(0, 25);
      const lines: string[] = [`scale ${scale}: ${subscriptions.length} merchants; ms per statement (one merchant, one connection): client wall clock (round trip included) and the server's execution time (EXPLAIN ANALYZE)`, ''];
      lines.push(
        '| feature | merchants | wall before mean / p50 / p95 | wall after | ratio | server exec before | server exec after | ratio |',
        '|---|---|---|---|---|---|---|---|',
      );
      for (const group of [{ name: 'all (random)', keys: subscriptions.slice(0, 300) }, { name: '25 largest', keys: largest }]) {
        for (const read of READS) {
          const times = { before: [] as number[], after: [] as number[] };
          const server = { before: [] as number[], after: [] as number[] };
          for (let round = 0; round < 3; round++) {
            for (const k of group.keys) {
              const params = read.period ? [[k.merchant_id], [k.platform_id], [0], [k.start], [k.end]] : [[k.merchant_id], [k.platform_id]];
              const answers: Record<string, string> = {};
              for (const side of round % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const)) {
                const started = process.hrtime.bigint();
                const { rows } = await client.query({ name: `${read.feature}-${side}`, text: read[side], values: params });
                times[side].push(Number(process.hrtime.bigint() - started) / 1e6);
                answers[side] = String(rows[0]?.value ?? rows[0]?.n ?? 0);
                if (round === 2) {
                  // the server's own execution time of the same statement (planning excluded, as a prepared statement's)
                  const explained = await client.query({ text: `EXPLAIN (ANALYZE, FORMAT JSON) ${read[side]}`, values: params });
                  server[side].push(explained.rows[0]['QUERY PLAN'][0]['Execution Time']);
                }
              }
              expect([read.feature, k.merchant_id, answers.after]).toEqual([read.feature, k.merchant_id, answers.before]);
            }
          }
          const [b, a] = [stats(times.before), stats(times.after)];
          const [sb, sa] = [stats(server.before), stats(server.after)];
          const f = (x: { mean: number; p50: number; p95: number }) => `${x.mean.toFixed(3)} / ${x.p50.toFixed(3)} / ${x.p95.toFixed(3)}`;
          lines.push(`| ${read.feature} | ${group.name} | ${f(b)} | ${f(a)} | ${(b.mean / a.mean).toFixed(1)}× | ${f(sb)} | ${f(sa)} | ${(sb.mean / sa.mean).toFixed(1)}× |`);
        }
      }
      const report = lines.join('\n');
      writeFileSync(process.env.BENCH_USAGE_SQL_OUT ?? '/tmp/usage-sql.md', `${report}\n`);
      process.stdout.write(`${report}\n`);
    } finally {
      await client.end();
    }
  }, 1_200_000);
});
