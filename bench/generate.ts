/**
 * Bench data generator: the reference's realistic scale (reference/capacity-planning.md, "Multi-Tier Mix"):
 * 1,000 merchants (500 essential, 300 professional, 150 business, 50 enterprise), 440,000 products,
 * 700,000 orders in each merchant's current billing period, their items, team members, subscriptions.
 *
 *   DATABASE_URL=postgres://… node --import tsx bench/generate.ts
 *
 * Expects every subgraph's migrations applied (the tiers are the ones billing's migration seeds). Empties the bench
 * tables first (it is a bench database), then loads deterministic rows (seeded PRNG, BENCH_SEED) with
 * `COPY … FROM STDIN`, streamed: rows are produced lazily, a few 64 KiB chunks at a time. Limits are read from
 * billing.tier_feature_limits, so no merchant starts above its plan's max_products, max_orders_per_month or
 * max_team_members. Ends with VACUUM (ANALYZE) so the run that follows sees fresh statistics and autovacuum
 * does not start in the middle of a measurement.
 */
// the env helpers only: the package index would load TypeORM and Apollo for nothing
import { parseEnvOrExit } from '@tiergraph/runtime/src/env';
import { Client } from 'pg';
import { z } from 'zod';
import { repairUsageCounters, USAGE_COUNTERS } from '../scripts/repair-usage-counters';
import { copyInto, copyValue as v, LoadProgress } from './copy';
import { mixSeed, Random } from './random';

const envSchema = z.object({
  DATABASE_URL: z.string().url({ message: 'DATABASE_URL is required (a postgres:// URL of a migrated tiergraph database)' }),
  BENCH_SEED: z.coerce.number().int().default(20_241_121),
  /** Fraction of the reference scale, for trying the generator quickly (0.1 = 100 merchants). */
  BENCH_SCALE: z.coerce.number().gt(0).max(1).default(1),
});

export const TIER_CODES = ['essential', 'professional', 'business', 'enterprise'] as const;
export type TierCode = (typeof TIER_CODES)[number];

/** capacity-planning.md, "Multi-Tier Mix (Realistic Scenario)": clients and products each per tier. */
const REFERENCE_MIX: Record<TierCode, { merchants: number; productsEach: number }> = {
  essential: { merchants: 500, productsEach: 100 },
  professional: { merchants: 300, productsEach: 300 },
  business: { merchants: 150, productsEach: 1_000 },
  enterprise: { merchants: 50, productsEach: 3_000 },
};
/** The same table's monthly orders in total (50,000 + 150,000 + 300,000 + 200,000). */
const REFERENCE_MONTHLY_ORDERS = 700_000;
const DAY_MS = 86_400_000;
const BENCH_DOMAIN = 'bench.tiergraph.test';

/** The tables this generator fills, children after parents. */
export const BENCH_TABLES = [
  'tenancy.platforms',
  'tenancy.merchants',
  'tenancy.stores',
  'tenancy.store_users',
  'catalog.products',
  'orders.orders',
  'orders.order_items',
  'media.media_files',
  'billing.merchant_subscriptions',
  'billing.subscription_history',
  'billing.merchant_feature_overrides',
] as const;
/** Also emptied: rows that point at merchants or stores of an earlier run. */
const ALSO_EMPTIED = [
  'billing.store_add_ons',
  'billing.billing_history',
  // metered usage: the ingestion scenario's events of an earlier run
  'billing.usage_events',
  'billing.usage_period_totals',
  'billing.usage_daily_totals',
  'billing.usage_threshold_crossings',
  'billing.usage_period_summaries',
  // the owners' usage counters: their triggers are off during the load (session_replication_role), so they are
  // emptied here and rebuilt from the loaded rows after it (repairUsageCounters)
  ...USAGE_COUNTERS.map((spec) => spec.counter),
];

interface TierPlan {
  id: string;
  code: TierCode;
  maxProducts: number | null;
  maxOrdersPerMonth: number | null;
  maxTeamMembers: number | null;
  maxStorageMb: number | null;
  aiTokensPerMonth: number | null;
}

interface StorePlan {
  id: string;
  code: string;
  name: string;
  createdAt: Date;
  productIds: string[];
  productPrices: number[];
}

interface MerchantPlan {
  index: number;
  id: string;
  name: string;
  email: string;
  tier: TierPlan;
  createdAt: Date;
  stores: StorePlan[];
  products: number;
  orders: number;
  activeMembers: number;
  inactiveMembers: number;
  mediaFiles: number;
  subscriptionId: string;
  periodStart: Date;
  periodEnd: Date;
}

interface Plan {
  seed: number;
  now: Date;
  platform: { id: string; code: string; name: string };
  merchants: MerchantPlan[];
  totals: { stores: number; products: number; orders: number; storeUsers: number; mediaFiles: number };
}

const ADJECTIVES = ['Alpine', 'Amber', 'Bold', 'Bright', 'Cedar', 'Coastal', 'Copper', 'Crimson', 'Golden', 'Green', 'Harbor', 'Indigo', 'Ivory', 'Lunar', 'Maple', 'Nordic', 'Olive', 'Silver', 'Sunny', 'Urban'];
const NOUNS = ['Atelier', 'Bakery', 'Books', 'Boutique', 'Ceramics', 'Coffee', 'Crafts', 'Cycles', 'Denim', 'Garden', 'Goods', 'Kitchen', 'Leather', 'Market', 'Optics', 'Outfitters', 'Pantry', 'Pets', 'Supply', 'Tea', 'Textiles', 'Toys', 'Wellness', 'Wines', 'Workshop'];
const SUFFIXES = ['', '', ' Co.', ' GmbH', ' Ltd', ' & Sons', ' Studio', ' SARL'];
const PRODUCT_WORDS = ['Classic', 'Deluxe', 'Eco', 'Everyday', 'Handmade', 'Limited', 'Mini', 'Organic', 'Premium', 'Pro', 'Signature', 'Travel', 'Vintage', 'Wild'];
const PRODUCT_NOUNS = ['Apron', 'Backpack', 'Blanket', 'Bottle', 'Candle', 'Cap', 'Jacket', 'Journal', 'Lamp', 'Mug', 'Notebook', 'Plate', 'Poster', 'Scarf', 'Soap', 'Sweater', 'Tote', 'Vase', 'Wallet', 'Watch'];
const ORDER_STATUSES = ['FULFILLED', 'FULFILLED', 'FULFILLED', 'FULFILLED', 'FULFILLED', 'PAID', 'PAID', 'PAID', 'PENDING', 'CANCELLED'] as const;
const QUANTITIES = [1, 1, 1, 1, 2, 2, 3, 5];

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const addMonthsUtc = (date: Date, months: number) => {
  const next = new Date(date);
  next.setUTCMonth(next.getUTCMonth() + months);
  return next;
};
const between = (rng: Random, from: Date, to: Date) => new Date(from.getTime() + Math.floor(rng.float() * (to.getTime() - from.getTime())));

/** Splits `total` into `parts` random positive-ish shares (each at least `min` when the total allows). */
function spread(rng: Random, total: number, parts: number, min = 1): number[] {
  const shares = new Array<number>(parts).fill(0);
  const floor = total >= parts * min ? min : 0;
  let left = total - floor * parts;
  for (let i = 0; i < parts; i++) shares[i] = floor;
  const weights = Array.from({ length: parts }, () => 0.5 + rng.float());
  const sum = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < parts && left > 0; i++) {
    const share = i === parts - 1 ? left : Math.min(left, Math.round((total - floor * parts) * (weights[i] / sum)));
    shares[i] += share;
    left -= share;
  }
  return shares;
}

/**
 * Counts that vary per merchant but keep the tier's total: merchants are paired and one gets +d, the other -d
 * (d up to `jitter` of the mean), each clamped to [min, limit].
 */
function pairedCounts(rng: Random, merchants: number, mean: number, jitter: number, limit: number | null, min: number): number[] {
  const counts: number[] = [];
  for (let i = 0; i < merchants; i += 2) {
    let d = rng.int(0, Math.floor(mean * jitter));
    if (limit !== null) d = Math.min(d, limit - mean);
    d = Math.min(d, mean - min);
    counts.push(mean + d);
    if (i + 1 < merchants) counts.push(mean - d);
  }
  return counts;
}

async function loadTiers(client: Client): Promise<Record<TierCode, TierPlan>> {
  const { rows } = await client.query<{ id: string; code: string; feature_code: string | null; limit_value: number | null }>(
    `SELECT t.id, t.code, l.feature_code, l.limit_value
       FROM billing.subscription_tiers t
       LEFT JOIN billing.tier_feature_limits l ON l.tier_id = t.id AND l.enabled
      WHERE t.code = ANY($1)`,
    [TIER_CODES],
  );
  const tiers = {} as Record<TierCode, TierPlan>;
  for (const row of rows) {
    const code = row.code as TierCode;
    const tier = (tiers[code] ??= {
      id: row.id,
      code,
      maxProducts: null,
      maxOrdersPerMonth: null,
      maxTeamMembers: null,
      maxStorageMb: null,
      aiTokensPerMonth: null,
    });
    if (row.feature_code === 'max_products') tier.maxProducts = row.limit_value;
    if (row.feature_code === 'max_orders_per_month') tier.maxOrdersPerMonth = row.limit_value;
    if (row.feature_code === 'max_team_members') tier.maxTeamMembers = row.limit_value;
    if (row.feature_code === 'max_storage_mb') tier.maxStorageMb = row.limit_value;
    if (row.feature_code === 'ai_tokens_per_month') tier.aiTokensPerMonth = row.limit_value;
  }
  const missing = TIER_CODES.filter((code) => !tiers[code]);
  if (missing.length) {
    throw new Error(`billing.subscription_tiers lacks ${missing.join(', ')}: apply the migrations first (pnpm start or pnpm bench does)`);
  }
  return tiers;
}

/** Everything but the row contents: who exists, how many of what each merchant has, and the ids items refer to. */
export function makePlan(seed: number, scale: number, tiers: Record<TierCode, TierPlan>, now: Date): Plan {
  const rng = new Random(mixSeed(seed, 1));
  const platform = { id: rng.uuid(), code: 'bench', name: 'Bench Platform' };

  const tierOfMerchant: TierCode[] = [];
  const countsByTier = {} as Record<TierCode, { products: number[]; members: number[] }>;
  for (const code of TIER_CODES) {
    const merchants = Math.max(2, Math.round((REFERENCE_MIX[code].merchants * scale) / 2) * 2);
    const tier = tiers[code];
    const mean = tier.maxProducts === null ? REFERENCE_MIX[code].productsEach : Math.min(REFERENCE_MIX[code].productsEach, tier.maxProducts);
    countsByTier[code] = {
      products: rng.shuffle(pairedCounts(rng, merchants, mean, 0.4, tier.maxProducts, 3)),
      members: Array.from({ length: merchants }, () => (tier.maxTeamMembers === null ? rng.int(5, 30) : rng.int(0, tier.maxTeamMembers))),
    };
    for (let i = 0; i < merchants; i++) tierOfMerchant.push(code);
  }
  rng.shuffle(tierOfMerchant);

  // Orders: limited tiers end the period at 90–100 % of max_orders_per_month (the reference assumes full use);
  // unlimited merchants carry the rest, so the total is the reference's 700,000 (scaled).
  const merchantsTotal = tierOfMerchant.length;
  const orderCounts = tierOfMerchant.map((code) => {
    const limit = tiers[code].maxOrdersPerMonth;
    return limit === null ? null : limit - rng.int(0, Math.floor(limit * 0.1));
  });
  const limitedOrders = orderCounts.reduce<number>((sum, n) => sum + (n ?? 0), 0);
  const unlimited = orderCounts.filter((n) => n === null).length;
  const ordersLeft = Math.max(0, Math.round(REFERENCE_MONTHLY_ORDERS * scale) - limitedOrders);
  const unlimitedCounts = rng.shuffle(pairedCounts(rng, unlimited, Math.floor(ordersLeft / Math.max(unlimited, 1)), 0.3, null, 1));
  if (unlimited) unlimitedCounts[0] += ordersLeft - unlimitedCounts.reduce((a, b) => a + b, 0);

  const next = { essential: 0, professional: 0, business: 0, enterprise: 0 } satisfies Record<TierCode, number>;
  let nextUnlimited = 0;
  const totals = { stores: 0, products: 0, orders: 0, storeUsers: 0, mediaFiles: 0 };
  const merchants: MerchantPlan[] = [];
  for (let index = 0; index < merchantsTotal; index++) {
    const code = tierOfMerchant[index];
    const tier = tiers[code];
    const products = countsByTier[code].products[next[code]];
    const activeMembers = countsByTier[code].members[next[code]];
    next[code]++;
    const orders = orderCounts[index] ?? unlimitedCounts[nextUnlimited++];
    const createdAt = new Date(now.getTime() - (28 + rng.int(0, 870)) * DAY_MS - rng.int(0, DAY_MS));
    // current_period_start = now - random(0..27) days (at least an hour ago, so the period has room for orders)
    const periodStart = new Date(now.getTime() - Math.max(3_600_000, Math.floor(rng.float() * 27 * DAY_MS)));
    const number = pad(index + 1, 4);
    const storeCount = rng.int(1, 3);
    const productShares = spread(rng, products, storeCount);
    const stores: StorePlan[] = productShares.map((share, s) => {
      const productIds: string[] = new Array(share);
      const productPrices: number[] = new Array(share);
      for (let p = 0; p < share; p++) {
        productIds[p] = rng.uuid();
        productPrices[p] = rng.pick([499, 990, 1290, 1990, 2490, 2990, 3990, 4990, 7990, 9990, 14990, 19990]) + rng.int(0, 9) * 100;
      }
      return {
        id: rng.uuid(),
        code: `m${number}-s${s + 1}`,
        name: `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)} ${s === 0 ? 'Flagship' : `Outlet ${s + 1}`}`,
        createdAt: between(rng, createdAt, periodStart),
        productIds,
        productPrices,
      };
    });
    const inactiveMembers = rng.chance(0.25) ? 1 : 0;
    // media: about one image for every five products, well within max_storage_mb
    const mediaFiles = Math.floor(products / 5);
    merchants.push({
      index,
      id: rng.uuid(),
      name: `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}${rng.pick(SUFFIXES)} ${number}`,
      email: `merchant-${number}@${BENCH_DOMAIN}`,
      tier,
      createdAt,
      stores,
      products,
      orders,
      activeMembers,
      inactiveMembers,
      mediaFiles,
      subscriptionId: rng.uuid(),
      periodStart,
      periodEnd: addMonthsUtc(periodStart, 1),
    });
    totals.stores += storeCount;
    totals.products += products;
    totals.orders += orders;
    totals.storeUsers += storeCount + activeMembers + inactiveMembers;
    totals.mediaFiles += mediaFiles;
  }
  return { seed, now, platform, merchants, totals };
}

// ───────────── rows, produced lazily per table ─────────────

function* merchantRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) yield `${m.id}\t${v(m.name)}\t${m.email}\tt\t${v(m.createdAt)}\n`;
}

function* storeRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) {
    for (const s of m.stores) yield `${s.id}\t${m.id}\t${plan.platform.id}\t${s.code}\t${v(s.name)}\tt\t${v(s.createdAt)}\n`;
  }
}

/** One OWNER per store, the merchant's active MEMBERs (within max_team_members) spread over its stores, some inactive. */
function* storeUserRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) {
    const rng = new Random(mixSeed(plan.seed, 2, m.index));
    const number = pad(m.index + 1, 4);
    for (const s of m.stores) {
      yield `${rng.uuid()}\t${s.id}\t${m.id}\t${plan.platform.id}\towner-${s.code}@${BENCH_DOMAIN}\tOWNER\tt\t${v(s.createdAt)}\t\\N\n`;
    }
    const members = m.activeMembers + m.inactiveMembers;
    for (let i = 0; i < members; i++) {
      const store = rng.pick(m.stores);
      const active = i < m.activeMembers;
      const createdAt = between(rng, store.createdAt, plan.now);
      const deactivatedAt = active ? '\\N' : v(between(rng, createdAt, plan.now));
      yield `${rng.uuid()}\t${store.id}\t${m.id}\t${plan.platform.id}\tmember-${number}-${pad(i + 1, 3)}@${BENCH_DOMAIN}\tMEMBER\t${active ? 't' : 'f'}\t${v(createdAt)}\t${deactivatedAt}\n`;
    }
  }
}

function* productRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) {
    const rng = new Random(mixSeed(plan.seed, 3, m.index));
    let sku = 0;
    for (const s of m.stores) {
      for (let p = 0; p < s.productIds.length; p++) {
        const name = `${rng.pick(PRODUCT_WORDS)} ${rng.pick(PRODUCT_NOUNS)} ${pad(++sku, 5)}`;
        const active = rng.chance(0.95) ? 't' : 'f';
        yield `${s.productIds[p]}\t${m.id}\t${s.id}\t${plan.platform.id}\tSKU-${pad(sku, 6)}\t${name}\t${s.productPrices[p]}\tEUR\t${active}\t${v(between(rng, s.createdAt, plan.now))}\n`;
      }
    }
  }
}

interface GeneratedOrder {
  line: string;
  items: string[];
}

/**
 * A merchant's orders with their items, from its own PRNG stream: the orders pass and the items pass regenerate
 * the same orders, so neither keeps 700,000 orders in memory. Created within [current_period_start, now).
 */
function* ordersOf(plan: Plan, m: MerchantPlan): Generator<GeneratedOrder> {
  const rng = new Random(mixSeed(plan.seed, 4, m.index));
  const stores = m.stores.filter((s) => s.productIds.length > 0);
  const number = pad(m.index + 1, 4);
  for (let o = 0; o < m.orders; o++) {
    const store = rng.pick(stores);
    const id = rng.uuid();
    const itemCount = rng.int(1, 3);
    const items: string[] = [];
    let total = 0;
    for (let position = 0; position < itemCount; position++) {
      const p = rng.int(0, store.productIds.length - 1);
      const quantity = rng.pick(QUANTITIES);
      const price = store.productPrices[p];
      total += quantity * price;
      items.push(`${rng.uuid()}\t${id}\t${store.productIds[p]}\t${quantity}\t${price}\t${position}\n`);
    }
    const status = rng.pick(ORDER_STATUSES);
    const email = rng.chance(0.9) ? `customer-${number}-${rng.int(1, 5_000)}@example.test` : '\\N';
    const createdAt = between(rng, m.periodStart, plan.now);
    yield { line: `${id}\t${m.id}\t${store.id}\t${plan.platform.id}\t${status}\t${total}\tEUR\t${email}\t${v(createdAt)}\n`, items };
  }
}

function* orderRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) for (const order of ordersOf(plan, m)) yield order.line;
}

function* orderItemRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) for (const order of ordersOf(plan, m)) yield* order.items;
}

function* mediaRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) {
    const rng = new Random(mixSeed(plan.seed, 5, m.index));
    for (let f = 0; f < m.mediaFiles; f++) {
      const store = rng.pick(m.stores);
      const key = rng.uuid().replace(/-/g, '');
      const png = rng.chance(0.2);
      const [width, height] = rng.pick([[1200, 1200], [1600, 1200], [800, 800], [2000, 1500]]);
      const size = rng.int(40_000, 1_500_000);
      // stored: the original plus its WebP variants (medium and thumb), about a fifth more
      yield `${rng.uuid()}\t${m.id}\t${store.id}\t${plan.platform.id}\tIMG_${pad(f + 1, 5)}.${png ? 'png' : 'jpg'}\t${png ? 'image/png' : 'image/jpeg'}\t${size}\t${width}\t${height}\t${key}\t${Math.round(size * 1.2)}\t${v(between(rng, store.createdAt, plan.now))}\n`;
    }
  }
}

function* subscriptionRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) {
    yield `${m.subscriptionId}\t${m.id}\t${plan.platform.id}\t${v(m.name)}\t${m.tier.id}\tACTIVE\tMONTHLY\t${v(m.periodStart)}\t${v(m.periodEnd)}\t\\N\tf\t\\N\t\\N\t\\N\t${v(m.createdAt)}\t${v(m.periodStart)}\n`;
  }
}

/** A CREATED entry per subscription; a quarter of the paid-up merchants started one tier lower and upgraded. */
function* historyRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) {
    const rng = new Random(mixSeed(plan.seed, 6, m.index));
    const tierIndex = TIER_CODES.indexOf(m.tier.code);
    const upgraded = tierIndex > 0 && rng.chance(0.25);
    const firstTier = upgraded ? TIER_CODES[tierIndex - 1] : m.tier.code;
    yield `${rng.uuid()}\t${m.subscriptionId}\tCREATED\t\\N\t${firstTier}\t\\N\tACTIVE\t\\N\tbench-generator\t${v(m.createdAt)}\n`;
    if (upgraded) {
      yield `${rng.uuid()}\t${m.subscriptionId}\tUPGRADE\t${firstTier}\t${m.tier.code}\tACTIVE\tACTIVE\tgrowing\tbench-generator\t${v(between(rng, m.createdAt, m.periodStart))}\n`;
    }
  }
}

/** Overrides for about 5 % of the limited merchants; none raises or lowers products, orders or team members. */
function* overrideRows(plan: Plan): Generator<string> {
  for (const m of plan.merchants) {
    const rng = new Random(mixSeed(plan.seed, 7, m.index));
    if (m.tier.code === 'enterprise' || !rng.chance(0.05)) continue;
    const tokens = m.tier.aiTokensPerMonth === null ? '\\N' : String(m.tier.aiTokensPerMonth * 2);
    const storage = m.tier.maxStorageMb === null ? '\\N' : String(m.tier.maxStorageMb * 2);
    switch (rng.int(0, 2)) {
      case 0:
        yield `${rng.uuid()}\t${m.id}\t${plan.platform.id}\tai_tokens_per_month\t${tokens}\tt\n`;
        break;
      case 1:
        yield `${rng.uuid()}\t${m.id}\t${plan.platform.id}\tmax_storage_mb\t${storage}\tt\n`;
        break;
      default:
        yield `${rng.uuid()}\t${m.id}\t${plan.platform.id}\tapi_access\t\\N\tt\n`;
    }
  }
}

// ───────────── load ─────────────

/**
 * Every foreign key of the bench tables, checked once with an anti-join (what the per-row triggers would have
 * checked during COPY). Throws on the first violation.
 */
async function verifyIntegrity(clients: Client[]): Promise<number> {
  const { rows } = await clients[0].query<{ name: string; child: string; parent: string; child_columns: string[]; parent_columns: string[] }>(
    `SELECT c.conname AS name, c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
            array(SELECT quote_ident(a.attname) FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS child_columns,
            array(SELECT quote_ident(a.attname) FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS parent_columns
       FROM pg_constraint c
      WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY($1)
      ORDER BY pg_relation_size(c.conrelid) DESC`,
    [BENCH_TABLES],
  );
  const queue = [...rows];
  await Promise.all(
    clients.map(async (client) => {
      for (let fk = queue.shift(); fk; fk = queue.shift()) {
        const join = fk.child_columns.map((column, i) => `p.${fk.parent_columns[i]} = c.${column}`).join(' AND ');
        const notNull = fk.child_columns.map((column) => `c.${column} IS NOT NULL`).join(' AND ');
        const { rows: found } = await client.query<{ missing: string }>(
          `SELECT count(*) AS missing FROM ${fk.child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE ${join})`,
        );
        if (Number(found[0].missing) > 0) throw new Error(`${found[0].missing} rows of ${fk.child} break ${fk.name} (→ ${fk.parent})`);
      }
    }),
  );
  return rows.length;
}

export interface GenerateResult {
  rows: Record<string, number>;
  loadMs: number;
  totalMs: number;
}

export async function generateBenchData(options: { databaseUrl: string; seed: number; scale: number; log?: (line: string) => void }): Promise<GenerateResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const started = Date.now();
  // Two connections: the two lanes below load at the same time (node makes rows, PostgreSQL stores them: 2 cores).
  const lanes = [new Client({ connectionString: options.databaseUrl }), new Client({ connectionString: options.databaseUrl })];
  await Promise.all(lanes.map((c) => c.connect()));
  try {
    // Bulk load: no WAL flush per COPY; and, as pg_restore --disable-triggers does, no foreign-key trigger per row
    // (1.4 M deferred checks on order_items alone): the rows are consistent by construction, and verifyIntegrity
    // checks every foreign key once, set-wise, after the load.
    let triggersOff = true;
    for (const c of lanes) {
      await c.query(`SET synchronous_commit = off; SET maintenance_work_mem = '256MB'`);
      try {
        await c.query(`SET session_replication_role = replica`);
      } catch {
        triggersOff = false; // not a superuser: PostgreSQL checks the foreign keys per row instead
      }
    }
    const [main, side] = lanes;
    const tiers = await loadTiers(main);
    const now = new Date();
    const plan = makePlan(options.seed, options.scale, tiers, now);
    log(
      `plan (seed ${options.seed}, scale ${options.scale}): ${plan.merchants.length} merchants ` +
        `(${TIER_CODES.map((c) => `${plan.merchants.filter((m) => m.tier.code === c).length} ${c}`).join(', ')}), ` +
        `${plan.totals.stores} stores, ${plan.totals.products.toLocaleString('en-US')} products, ` +
        `${plan.totals.orders.toLocaleString('en-US')} orders, ${plan.totals.storeUsers} store users in ${Date.now() - started} ms`,
    );

    const emptied = Date.now();
    await main.query(`TRUNCATE ${[...BENCH_TABLES, ...ALSO_EMPTIED].join(', ')} CASCADE`);
    log(`emptied the bench tables in ${Date.now() - emptied} ms; loading with COPY:`);

    const progress = new LoadProgress();
    const rows: Record<string, number> = {};
    const copy = async (client: Client, table: string, columns: string[], expected: number, lines: Iterable<string>) => {
      rows[table] = await copyInto(client, progress, table, columns, expected, lines);
    };
    const loadStarted = Date.now();
    try {
      await copy(main, 'tenancy.platforms', ['id', 'code', 'name', 'created_at'], 1, [
        `${plan.platform.id}\t${plan.platform.code}\t${plan.platform.name}\t${v(now)}\n`,
      ]);
      await copy(main, 'tenancy.merchants', ['id', 'name', 'email', 'is_active', 'created_at'], plan.merchants.length, merchantRows(plan));
      await copy(main, 'tenancy.stores', ['id', 'merchant_id', 'platform_id', 'code', 'name', 'is_active', 'created_at'], plan.totals.stores, storeRows(plan));
      const itemsExpected = plan.totals.orders * 2;
      await Promise.all([
        // lane 1: the orders and their items (the largest tables)
        (async () => {
          await copy(side, 'orders.orders', ['id', 'merchant_id', 'store_id', 'platform_id', 'status', 'total_cents', 'currency', 'customer_email', 'created_at'], plan.totals.orders, orderRows(plan));
          await copy(side, 'orders.order_items', ['id', 'order_id', 'product_id', 'quantity', 'unit_price_cents', 'position'], itemsExpected, orderItemRows(plan));
        })(),
        // lane 2: everything else
        (async () => {
          await copy(main, 'catalog.products', ['id', 'merchant_id', 'store_id', 'platform_id', 'sku', 'name', 'price_cents', 'currency', 'is_active', 'created_at'], plan.totals.products, productRows(plan));
          await copy(main, 'tenancy.store_users', ['id', 'store_id', 'merchant_id', 'platform_id', 'email', 'role', 'is_active', 'created_at', 'deactivated_at'], plan.totals.storeUsers, storeUserRows(plan));
          await copy(main, 'media.media_files', ['id', 'merchant_id', 'store_id', 'platform_id', 'filename', 'mime_type', 'size_bytes', 'width', 'height', 'storage_key', 'stored_bytes', 'created_at'], plan.totals.mediaFiles, mediaRows(plan));
          await copy(main, 'billing.merchant_subscriptions', [
            'id', 'merchant_id', 'platform_id', 'merchant_name', 'tier_id', 'status', 'billing_cycle', 'current_period_start', 'current_period_end',
            'trial_ends_at', 'cancel_at_period_end', 'cancelled_at', 'stripe_customer_id', 'stripe_subscription_id', 'created_at', 'updated_at',
          ], plan.merchants.length, subscriptionRows(plan));
          await copy(main, 'billing.subscription_history', ['id', 'subscription_id', 'change', 'from_tier_code', 'to_tier_code', 'from_status', 'to_status', 'reason', 'actor', 'changed_at'], plan.merchants.length, historyRows(plan));
          await copy(main, 'billing.merchant_feature_overrides', ['id', 'merchant_id', 'platform_id', 'feature_code', 'limit_value', 'is_enabled'], Math.ceil(plan.merchants.length * 0.05), overrideRows(plan));
        })(),
      ]);
    } finally {
      progress.stop();
    }
    const loadMs = Date.now() - loadStarted;
    const total = Object.values(rows).reduce((a, b) => a + b, 0);
    log(`loaded ${total.toLocaleString('en-US')} rows in ${(loadMs / 1000).toFixed(1)} s`);

    if (triggersOff) {
      const checked = Date.now();
      const foreignKeys = await verifyIntegrity(lanes);
      log(`checked ${foreignKeys} foreign keys set-wise in ${((Date.now() - checked) / 1000).toFixed(1)} s (row triggers were off during COPY)`);
    }

    const countersStarted = Date.now();
    const counterRows = Object.values(await repairUsageCounters(lanes)).reduce((x, y) => x + y, 0);
    log(`rebuilt the usage counters (${counterRows.toLocaleString('en-US')} rows) in ${((Date.now() - countersStarted) / 1000).toFixed(1)} s`);

    const vacuumStarted = Date.now();
    // VACUUM (ANALYZE): statistics for the planner, and the visibility map for index-only counts; the big tables in
    // parallel on the two connections.
    await Promise.all([
      (async () => {
        for (const table of ['orders.order_items', 'orders.orders']) await side.query(`VACUUM (ANALYZE) ${table}`);
      })(),
      (async () => {
        for (const table of [...BENCH_TABLES.filter((t) => !t.startsWith('orders.')), ...USAGE_COUNTERS.map((spec) => spec.counter)]) {
          await main.query(`VACUUM (ANALYZE) ${table}`);
        }
      })(),
    ]);
    await main.query('ANALYZE');
    log(`VACUUM (ANALYZE) and ANALYZE in ${((Date.now() - vacuumStarted) / 1000).toFixed(1)} s`);
    const totalMs = Date.now() - started;
    log(`bench data ready in ${(totalMs / 1000).toFixed(1)} s (${total.toLocaleString('en-US')} rows)`);
    return { rows, loadMs, totalMs };
  } finally {
    await Promise.all(lanes.map((c) => c.end()));
  }
}

if (require.main === module) {
  const env = parseEnvOrExit(envSchema, process.env);
  generateBenchData({ databaseUrl: env.DATABASE_URL, seed: env.BENCH_SEED, scale: env.BENCH_SCALE }).catch((error: Error) => {
    process.stderr.write(`bench data generation failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  });
}
