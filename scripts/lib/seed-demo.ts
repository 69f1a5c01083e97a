/**
 * Demo data for a fresh `pnpm start`, written through the graph with an admin token — the same rules, limits and
 * idempotency every client gets; the seeder reads and writes no table itself.
 *
 * Idempotent: everything is found by a stable key before it is made (the platform by code, merchants by email,
 * stores by code, users by email, products by sku, usage by idempotency key, snapshots by day), and counts that have
 * no key (orders) are topped up to their target. A second run changes nothing.
 */

/** Sends one GraphQL operation with the admin token and answers its data; throws on any error. */
export type GraphQLCall = <T = any>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export interface SeedOptions {
  graphql: GraphQLCall;
  /** Uploads one image for a store to the media subgraph's REST endpoint; omitted: no media is seeded. */
  uploadImage?: (storeId: string, filename: string, image: Buffer) => Promise<void>;
  /** Makes a small PNG of the given colour (sharp in the CLI). Needed with uploadImage. */
  renderImage?: (seed: number) => Promise<Buffer>;
  clock?: () => Date;
  progress?: (line: string) => void;
  /** Parallel requests while creating products and orders (default 6). */
  concurrency?: number;
  /** Products, orders and tokens per merchant times this (default 1; the tests seed a tenth). */
  scale?: number;
}

export interface SeedSummary {
  platformId: string;
  merchants: number;
  stores: number;
  created: { merchants: number; stores: number; users: number; products: number; orders: number; usageEvents: number; images: number; snapshots: number };
}

type Tier = 'essential' | 'professional' | 'business' | 'enterprise';

interface DemoMerchant {
  slug: string;
  name: string;
  tier: Tier;
  /** TRIAL and PAST_DUE show the other states on the admin pages. */
  status?: 'TRIAL' | 'PAST_DUE';
  stores: string[];
  /** Products per store, team members per merchant (within the tier's limits), orders per store. */
  products: number;
  members: number;
  orders: number;
  /** AI tokens recorded this period, per store. */
  aiTokens: number;
  images: number;
  /** A store that is switched off shows active vs total stores. */
  inactiveStore?: string;
}

const DEMO_PLATFORM = { code: 'demo', name: 'Demo Commerce' } as const;

/** Every tier, with usage spread so the capacity pages show headroom, pressure and one merchant near a limit. */
export const DEMO_MERCHANTS: readonly DemoMerchant[] = [
  { slug: 'alpine-outfitters', name: 'Alpine Outfitters', tier: 'enterprise', stores: ['alpine-eu', 'alpine-us'], products: 260, members: 12, orders: 60, aiTokens: 420_000, images: 3 },
  { slug: 'brightside-books', name: 'Brightside Books', tier: 'business', stores: ['brightside'], products: 320, members: 6, orders: 45, aiTokens: 380_000, images: 2 },
  { slug: 'copper-kettle', name: 'Copper Kettle Coffee', tier: 'business', stores: ['copper-kettle', 'copper-kettle-wholesale'], products: 150, members: 4, orders: 30, aiTokens: 150_000, images: 2, inactiveStore: 'copper-kettle-wholesale' },
  { slug: 'dune-surf', name: 'Dune Surf Co', tier: 'professional', stores: ['dune-surf'], products: 430, members: 3, orders: 40, aiTokens: 410_000, images: 1 },
  { slug: 'ember-candles', name: 'Ember Candles', tier: 'professional', stores: ['ember'], products: 120, members: 2, orders: 25, aiTokens: 60_000, images: 1, status: 'PAST_DUE' },
  { slug: 'fern-and-fig', name: 'Fern & Fig', tier: 'essential', stores: ['fern-and-fig'], products: 185, members: 1, orders: 85, aiTokens: 90_000, images: 1 },
  { slug: 'granite-tools', name: 'Granite Tools', tier: 'essential', stores: ['granite'], products: 60, members: 1, orders: 15, aiTokens: 20_000, images: 1 },
  { slug: 'harbor-tea', name: 'Harbor Tea House', tier: 'essential', stores: ['harbor-tea'], products: 25, members: 0, orders: 5, aiTokens: 5_000, images: 0, status: 'TRIAL' },
];

/** Days of capacity history the seeder imports (today's snapshot is captured, not imported). */
export const DEMO_HISTORY_DAYS = 89;

const ops = {
  platforms: `{ platforms { id code } }`,
  createPlatform: `mutation($input: CreatePlatformInput!) { createPlatform(input: $input) { id } }`,
  merchantByEmail: `query($email: String!) { merchantByEmail(email: $email) { id stores { id code } } }`,
  createMerchant: `mutation($input: CreateMerchantInput!) { createMerchant(input: $input) { id } }`,
  createStore: `mutation($input: CreateStoreInput!) { createStore(input: $input) { id } }`,
  setStoreActive: `mutation($id: ID!, $isActive: Boolean!) { setStoreActive(id: $id, isActive: $isActive) { id } }`,
  subscription: `query($merchantId: ID!, $platformId: ID!) { merchant(id: $merchantId) { subscription(platformId: $platformId) {
    status tier { code } features { code current } } } }`,
  updateSubscription: `mutation($merchantId: ID!, $platformId: ID!, $input: UpdateMerchantSubscriptionInput!) {
    updateMerchantSubscription(merchantId: $merchantId, platformId: $platformId, input: $input) { id } }`,
  storeUsers: `query($id: ID!) { store(id: $id) { isActive users { email } } }`,
  addStoreUser: `mutation($input: AddStoreUserInput!) { addStoreUser(input: $input) { id } }`,
  products: `query($id: ID!, $after: String) { store(id: $id) { products(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { id sku } } } } }`,
  createProduct: `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
  placeOrder: `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`,
  storeMedia: `query($id: ID!) { store(id: $id) { media(first: 100) { totalCount } } }`,
  recordUsageBatch: `mutation($events: [RecordUsageInput!]!) { recordUsageBatch(events: $events) { accepted duplicates refused results { errorCode } } }`,
  importSnapshots: `mutation($snapshots: [CapacitySnapshotInput!]!) { importCapacitySnapshots(snapshots: $snapshots) { imported kept } }`,
  capture: `mutation { captureCapacitySnapshot { snapshotDate totalStores activeStores trialStores totalSubscriptions activeSubscriptions
    totalProducts totalOrdersMonth totalTeamMembers totalMediaFiles storageUsedGb dbSizeMb
    theoreticalProductsLimit theoreticalOrdersLimit theoreticalTeamLimit tierDistribution { tierCode count } } }`,
};

const DAY_MS = 86_400_000;

/** A deterministic pseudo-random sequence (mulberry32), so every run makes the same catalogue and history. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Runs `work` for 0..count-1 with at most `limit` in flight, reporting every 50 done. */
async function inParallel(count: number, limit: number, work: (i: number) => Promise<void>, report?: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await work(i);
      done++;
      if (report && (done % 50 === 0 || done === count)) report(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

const PRODUCT_WORDS = ['Classic', 'Organic', 'Deluxe', 'Travel', 'Everyday', 'Limited', 'Handmade', 'Vintage', 'Compact', 'Premium'];
const PRODUCT_THINGS = ['Mug', 'Backpack', 'Notebook', 'Candle', 'Blend', 'Jacket', 'Board', 'Kettle', 'Lamp', 'Set'];

export async function seedDemo(options: SeedOptions): Promise<SeedSummary> {
  const { graphql } = options;
  const clock = options.clock ?? (() => new Date());
  const say = options.progress ?? (() => undefined);
  const concurrency = options.concurrency ?? 6;
  const scale = options.scale ?? 1;
  const created: SeedSummary['created'] = { merchants: 0, stores: 0, users: 0, products: 0, orders: 0, usageEvents: 0, images: 0, snapshots: 0 };

  const platforms = (await graphql<{ platforms: Array<{ id: string; code: string }> }>(ops.platforms)).platforms;
  let platformId = platforms.find((p) => p.code === DEMO_PLATFORM.code)?.id;
  if (!platformId) platformId = (await graphql(ops.createPlatform, { input: DEMO_PLATFORM })).createPlatform.id as string;
  say(`platform ${DEMO_PLATFORM.code} (${platformId})`);

  let storeCount = 0;
  for (const [index, plan] of DEMO_MERCHANTS.entries()) {
    const scaled = (n: number) => Math.ceil(n * scale);
    const demo = { ...plan, products: scaled(plan.products), orders: scaled(plan.orders), aiTokens: scaled(plan.aiTokens) };
    const email = `owner@${demo.slug}.demo.tiergraph.dev`;
    let merchant = (await graphql(ops.merchantByEmail, { email })).merchantByEmail as { id: string; stores: Array<{ id: string; code: string }> } | null;
    if (!merchant) {
      const id = (await graphql(ops.createMerchant, { input: { name: demo.name, email } })).createMerchant.id as string;
      merchant = { id, stores: [] };
      created.merchants++;
    }
    const merchantId = merchant.id;

    // The subscription first: products, orders and members count against its limits.
    const current = (await graphql(ops.subscription, { merchantId, platformId })).merchant.subscription as {
      status: string;
      tier: { code: string };
      features: Array<{ code: string; current: number | null }>;
    } | null;
    const wantStatus = demo.status ?? 'ACTIVE';
    if (!current || current.tier.code !== demo.tier || current.status !== wantStatus) {
      // PAST_DUE is where a failed payment leads; it keeps the plan's limits, so the demo can still fill it.
      const input = wantStatus === 'TRIAL' ? { tierCode: demo.tier, trialDays: 14 } : { tierCode: demo.tier, status: wantStatus };
      await graphql(ops.updateSubscription, { merchantId, platformId, input: { ...input, reason: 'demo data' } });
    }

    const storeIds: string[] = [];
    for (const code of demo.stores) {
      let storeId = merchant.stores.find((s) => s.code === code)?.id;
      if (!storeId) {
        const name = code.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join(' ');
        storeId = (await graphql(ops.createStore, { input: { merchantId, platformId, code, name } })).createStore.id as string;
        created.stores++;
      }
      storeIds.push(storeId);
    }
    storeCount += storeIds.length;

    // Team members, on the merchant's first store (max_team_members counts across its stores).
    const users = (await graphql(ops.storeUsers, { id: storeIds[0] })).store.users as Array<{ email: string }>;
    const emails = new Set(users.map((u) => u.email.toLowerCase()));
    for (let n = 1; n <= demo.members; n++) {
      const memberEmail = `member${n}@${demo.slug}.demo.tiergraph.dev`;
      if (emails.has(memberEmail)) continue;
      await graphql(ops.addStoreUser, { input: { storeId: storeIds[0], email: memberEmail, role: 'MEMBER' } });
      created.users++;
    }

    for (const [storeIndex, storeId] of storeIds.entries()) {
      const label = `${demo.slug} / ${demo.stores[storeIndex]}`;
      const productIds = await seedProducts(graphql, storeId, demo, index * 10 + storeIndex, concurrency, created, (line) => say(`${label}: ${line}`));
      await seedOrders(graphql, { merchantId, platformId, storeId }, productIds, demo.orders * (storeIndex + 1), index * 10 + storeIndex, concurrency, created, (line) => say(`${label}: ${line}`));
      created.usageEvents += await seedUsage(graphql, storeId, demo);
      if (options.uploadImage && options.renderImage && demo.images > 0) {
        const existing = (await graphql(ops.storeMedia, { id: storeId })).store.media.totalCount as number;
        for (let n = existing; n < demo.images; n++) {
          await options.uploadImage(storeId, `${demo.stores[storeIndex]}-${n + 1}.png`, await options.renderImage(index * 100 + n));
          created.images++;
        }
      }
    }
    if (demo.inactiveStore) {
      const id = storeIds[demo.stores.indexOf(demo.inactiveStore)];
      const store = (await graphql(ops.storeUsers, { id })).store as { isActive: boolean };
      if (store.isActive) await graphql(ops.setStoreActive, { id, isActive: false });
    }
    say(`merchants ${index + 1}/${DEMO_MERCHANTS.length}: ${demo.name} on ${demo.tier}${demo.status ? ` (${demo.status})` : ''}`);
  }

  // Today's figures come from the graph; the 89 days before are a history that grows into them.
  const today = (await graphql(ops.capture)).captureCapacitySnapshot as Record<string, unknown>;
  const history = demoHistory(today, clock());
  const imported = (await graphql(ops.importSnapshots, { snapshots: history })).importCapacitySnapshots as { imported: number; kept: number };
  created.snapshots = imported.imported;
  say(`capacity history: ${imported.imported} days imported, ${imported.kept} already there, today's snapshot ${today.snapshotDate}`);

  return { platformId, merchants: DEMO_MERCHANTS.length, stores: storeCount, created };
}

async function seedProducts(
  graphql: GraphQLCall,
  storeId: string,
  demo: DemoMerchant,
  seed: number,
  concurrency: number,
  created: SeedSummary['created'],
  say: (line: string) => void,
): Promise<string[]> {
  const ids = new Map<string, string>();
  let after: string | null = null;
  for (;;) {
    const page: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: { id: string; sku: string } }> } = (
      await graphql(ops.products, { id: storeId, after })
    ).store.products;
    for (const { node } of page.edges) ids.set(node.sku, node.id);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  const next = random(seed + 1);
  const wanted = Array.from({ length: demo.products }, (_, i) => {
    const name = `${PRODUCT_WORDS[Math.floor(next() * PRODUCT_WORDS.length)]} ${PRODUCT_THINGS[Math.floor(next() * PRODUCT_THINGS.length)]}`;
    return { sku: `DEMO-${String(i + 1).padStart(4, '0')}`, name, priceCents: 500 + Math.floor(next() * 200) * 50 };
  });
  const missing = wanted.filter((p) => !ids.has(p.sku));
  if (missing.length > 0) {
    await inParallel(
      missing.length,
      concurrency,
      async (i) => {
        const product = missing[i];
        const id = (await graphql(ops.createProduct, { input: { storeId, ...product } })).createProduct.id as string;
        ids.set(product.sku, id);
        created.products++;
      },
      (done) => say(`products ${done}/${missing.length}`),
    );
  }
  return wanted.map((p) => ids.get(p.sku)!);
}

async function seedOrders(
  graphql: GraphQLCall,
  keys: { merchantId: string; platformId: string; storeId: string },
  productIds: string[],
  /** What the merchant's period count should reach once this store has its orders. */
  target: number,
  seed: number,
  concurrency: number,
  created: SeedSummary['created'],
  say: (line: string) => void,
): Promise<void> {
  if (productIds.length === 0 || target === 0) return;
  // Orders have no natural key: the period's count (what max_orders_per_month sees, per merchant) is topped up to
  // the target, which grows by one store's share per store.
  const subscription = (await graphql(ops.subscription, { merchantId: keys.merchantId, platformId: keys.platformId })).merchant.subscription;
  const counted = subscription.features.find((f: { code: string }) => f.code === 'max_orders_per_month')?.current ?? 0;
  const missing = Math.max(0, target - counted);
  if (missing === 0) return;
  const next = random(seed + 1000);
  await inParallel(
    missing,
    concurrency,
    async () => {
      const items = Array.from({ length: 1 + Math.floor(next() * 3) }, () => ({
        productId: productIds[Math.floor(next() * productIds.length)],
        quantity: 1 + Math.floor(next() * 4),
      }));
      const unique = [...new Map(items.map((item) => [item.productId, item])).values()];
      await graphql(ops.placeOrder, { input: { storeId: keys.storeId, items: unique, customerEmail: `customer${Math.floor(next() * 900) + 100}@example.com` } });
      created.orders++;
    },
    (done) => say(`orders ${done}/${missing}`),
  );
}

/** AI-token usage in the current period, in one batch whose idempotency keys make a re-run a no-op. */
async function seedUsage(graphql: GraphQLCall, storeId: string, demo: DemoMerchant): Promise<number> {
  if (demo.aiTokens === 0) return 0;
  const events = 40;
  const quantity = Math.floor(demo.aiTokens / events);
  // No occurredAt: the server's clock, which is never before the subscription the seeder has just made.
  const batch = Array.from({ length: events }, (_, n) => ({ storeId, featureCode: 'ai_tokens_per_month', quantity, idempotencyKey: `demo-${storeId}-${n}` }));
  const result = (await graphql(ops.recordUsageBatch, { events: batch })).recordUsageBatch as {
    accepted: number;
    refused: number;
    results: Array<{ errorCode: string | null }>;
  };
  if (result.refused > 0) throw new Error(`${result.refused} usage events refused (${result.results.find((r) => r.errorCode)?.errorCode})`);
  return result.accepted;
}

/**
 * The 89 days before `today`: each figure grows towards today's value along a gently accelerating curve with a
 * little day-to-day noise (seeded, so every run imports the same history), and never exceeds today's value.
 */
function demoHistory(today: Record<string, unknown>, now: Date): Array<Record<string, unknown>> {
  const next = random(90);
  const figures = [
    'totalStores', 'activeStores', 'trialStores', 'totalSubscriptions', 'activeSubscriptions', 'totalProducts', 'totalOrdersMonth',
    'totalTeamMembers', 'totalMediaFiles', 'storageUsedGb', 'dbSizeMb', 'theoreticalProductsLimit', 'theoreticalOrdersLimit', 'theoreticalTeamLimit',
  ] as const;
  const todayUtc = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: DEMO_HISTORY_DAYS }, (_, i) => {
    const daysAgo = DEMO_HISTORY_DAYS - i;
    // 35 % of today's size 90 days ago, growing a little faster towards today.
    const share = 0.35 + 0.65 * ((DEMO_HISTORY_DAYS + 1 - daysAgo) / (DEMO_HISTORY_DAYS + 1)) ** 1.3;
    const snapshot: Record<string, unknown> = { tierDistribution: today.tierDistribution, snapshotDate: new Date(todayUtc - daysAgo * DAY_MS).toISOString().slice(0, 10) };
    for (const figure of figures) {
      const value = Number(today[figure] ?? 0) * share * (0.97 + next() * 0.03);
      snapshot[figure] = figure === 'storageUsedGb' || figure === 'dbSizeMb' ? Math.round(value * 1000) / 1000 : Math.floor(value);
    }
    return snapshot;
  });
}
