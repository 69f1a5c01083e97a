/**
 * The monolith bound (issue 12): the same MerchantFeatures answer as the graph gives, from ONE SQL statement per
 * request over the same tables, behind a bare node:http server, so the bench can load it with the same random
 * merchants and connections as the gateway. It is what a hand-written monolith would do; the federated stack is
 * measured against it. Not a product: no auth, no limits, one operation.
 *
 *   DATABASE_URL=… MONOLITH_PORT=4130 MONOLITH_POOL=8 node --import tsx bench/monolith.ts
 *
 * The answer is built in PostgreSQL (json_build_object); the process only forwards it. bench/run.ts checks that it
 * is the gateway's answer, field for field, for merchants of every tier before it measures.
 */
import http from 'node:http';
import { Pool } from 'pg';

/** `$1` merchant id, `$2` platform id. Usage by owner, as each subgraph counts it (see their stores). */
export const MONOLITH_SQL = `
WITH s AS (
  SELECT s.*, t.code AS tier_code, t.name AS tier_name,
         s.status IN ('TRIAL', 'ACTIVE', 'PAST_DUE') AS live
    FROM billing.merchant_subscriptions s JOIN billing.subscription_tiers t ON t.id = s.tier_id
   WHERE s.merchant_id = $1::uuid AND s.platform_id = $2::uuid
),
usage AS (
  SELECT 'max_products' AS code, (SELECT count(*) FROM catalog.products p
           WHERE p.merchant_id = $1::uuid AND p.platform_id = $2::uuid AND p.deleted_at IS NULL)::numeric AS n
  UNION ALL
  SELECT 'max_orders_per_month', (SELECT count(*) FROM orders.orders o, s
           WHERE o.merchant_id = $1::uuid AND o.platform_id = $2::uuid
             AND o.created_at >= s.current_period_start AND o.created_at < s.current_period_end)
  UNION ALL
  SELECT 'max_team_members', (SELECT count(*) FROM tenancy.store_users u
           WHERE u.merchant_id = $1::uuid AND u.platform_id = $2::uuid AND u.is_active AND u.role = 'MEMBER')
  UNION ALL
  SELECT 'max_storage_mb', (SELECT coalesce(ceil(sum(f.stored_bytes) / 1048576::numeric), 0) FROM media.media_files f
           WHERE f.merchant_id = $1::uuid AND f.platform_id = $2::uuid)
  UNION ALL
  SELECT t.feature_code, t.used FROM billing.usage_period_totals t, s
   WHERE t.merchant_id = $1::uuid AND t.platform_id = $2::uuid AND t.period_start = s.current_period_start
),
f AS (
  SELECT d.*, coalesce(o.is_enabled, l.enabled, false) AS enabled, o.id IS NOT NULL AS is_override,
         CASE WHEN o.id IS NOT NULL THEN CASE WHEN o.is_enabled THEN o.limit_value ELSE 0 END
              WHEN l.id IS NOT NULL THEN CASE WHEN l.enabled THEN l.limit_value ELSE 0 END
              ELSE 0 END AS lim,
         coalesce((SELECT sum(u.n) FROM usage u WHERE u.code = d.code), 0) AS cur
    FROM billing.feature_declarations d
    CROSS JOIN s
    LEFT JOIN billing.tier_feature_limits l ON s.live AND l.tier_id = s.tier_id AND l.feature_code = d.code
    LEFT JOIN billing.merchant_feature_overrides o ON s.live AND o.merchant_id = s.merchant_id AND o.platform_id = s.platform_id AND o.feature_code = d.code
)
SELECT json_build_object('data', json_build_object('merchant', json_build_object(
  'id', m.id, 'name', m.name,
  'subscription', (SELECT json_build_object(
    'id', s.id, 'status', s.status, 'billingCycle', s.billing_cycle,
    'tier', json_build_object('code', s.tier_code, 'name', s.tier_name),
    'currentPeriodStart', to_char(s.current_period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'currentPeriodEnd', to_char(s.current_period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'trialEndsAt', to_char(s.trial_ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'cancelAtPeriodEnd', s.cancel_at_period_end,
    'features', (SELECT json_agg(json_build_object(
        'code', f.code, 'name', f.name, 'category', f.category, 'featureType', f.feature_type, 'scope', f.scope,
        'enabled', s.live AND f.enabled,
        'limit', CASE WHEN f.feature_type = 'BINARY' THEN NULL ELSE f.lim END,
        'current', CASE WHEN f.feature_type = 'BINARY' THEN NULL ELSE f.cur END,
        'remaining', CASE WHEN f.feature_type = 'BINARY' OR f.lim IS NULL THEN NULL ELSE greatest(0, f.lim - f.cur) END,
        'percentUsed', CASE WHEN f.feature_type = 'BINARY' OR f.lim IS NULL THEN NULL WHEN f.lim <= 0 THEN 100
                            ELSE least(100, round(f.cur * 10000 / f.lim) / 100)::float8 END,
        'isOverride', f.is_override, 'unit', f.unit)
        ORDER BY f.category, f.display_order, f.code) FROM f),
    'history', (SELECT coalesce(json_agg(json_build_object(
        'fromTierCode', h.from_tier_code, 'toTierCode', h.to_tier_code, 'change', h.change, 'reason', h.reason,
        'changedAt', to_char(h.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        ORDER BY h.changed_at DESC, h.seq DESC), '[]'::json)
        FROM billing.subscription_history h WHERE h.subscription_id = s.id)
  ) FROM s)
))) AS body
  FROM tenancy.merchants m WHERE m.id = $1::uuid`;

export async function startMonolith(options: { databaseUrl: string; port: number; pool: number }): Promise<{ url: string; stop: () => Promise<void> }> {
  const pool = new Pool({ connectionString: options.databaseUrl, max: options.pool });
  // an arm of other stack settings restarts the stack's PostgreSQL: the pool's idle connections then fail, and an
  // 'error' nobody listens to would end this process (its next slices 0 req/s); the pool opens new ones on demand,
  // and a fault that lasts shows as failed requests in the bench's tables
  let poolErrors = 0;
  pool.on('error', (error) => {
    if (poolErrors++ === 0) process.stderr.write(`monolith: an idle connection failed (${error.message}); the pool reconnects on demand\n`);
  });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let variables: { merchantId?: string; platformId?: string };
      try {
        variables = JSON.parse(Buffer.concat(chunks).toString('utf8')).variables ?? {};
      } catch {
        res.writeHead(400).end('{"errors":[{"message":"not JSON"}]}');
        return;
      }
      // a named statement: parsed and planned once per connection, as a prepared hot path would be
      pool.query<{ body: unknown }>({ name: 'merchant-features', text: MONOLITH_SQL, values: [variables.merchantId, variables.platformId] }).then(
        ({ rows }) => {
          const body = rows.length ? JSON.stringify(rows[0].body) : '{"data":{"merchant":null}}';
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
        },
        (error: Error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: error.message }] })),
      );
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${options.port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await pool.end();
    },
  };
}

if (require.main === module) {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  void startMonolith({ databaseUrl, port: Number(process.env.MONOLITH_PORT ?? 4130), pool: Number(process.env.MONOLITH_POOL ?? 8) }).then((m) => {
    process.stdout.write(`monolith ready at ${m.url}\n`);
    const stop = () => void m.stop().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
