import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import { ALL_TAGS, type Caller, type Logger, type TagsExtension } from '@tiergraph/runtime';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The gateway's response cache for read operations, with exact invalidation by tags (issue 12, item 4).
 *
 * - Key: sha256 over the caller's scope (role, user, merchant, store of the verified token: two callers with the same
 *   scope get the same answers from every subgraph, a refreshed token keeps its entries), the operation's query hash,
 *   its operationName and variables. Looked up only after the token was verified (Apollo's context function).
 * - Stored only for a query answered without errors whose every subgraph fetch declared what it read
 *   (`extensions.tags.reads`, packages/runtime/src/response-tags.ts); a fetch without tags makes the answer
 *   uncacheable. The entry is tagged with the union, and expires at the earliest `expiresAt` a subgraph gave (a
 *   period end) or after the max age (a backstop), whichever is first.
 * - Invalidation: a mutation's fetches name what they changed (`extensions.tags.changed`): evicted the moment each
 *   fetch answers, so before the caller gets the mutation's answer; a mutation fetch that named nothing (or failed)
 *   clears everything, as it may have changed anything. `changed: []` is a subgraph's word that it changed nothing (a
 *   one-field write that rolled back, e.g. a create refused at its limit): it evicts nothing. Every other change
 *   arrives by NOTIFY (`invalidate`).
 * - Race rule: every invalidation takes the next number of a global sequence and records it per tag (a bounded map;
 *   what it forgets raises a floor). A read records the sequence when it starts and is not stored when any of its tags
 *   (or the floor) was invalidated after that: a write committing while the read was in flight never leaves a stale
 *   entry.
 * - While the LISTEN connection is down nothing is looked up or stored; losing it clears everything.
 * - Concurrent misses of one key: the first leads (executes); the others wait for it (at most `coalesceWaitMs`) and
 *   look up again, then execute themselves if it was not stored. They share nothing but a lookup made after the
 *   leader's store, which is exactly what a request arriving at that moment would get: an entry in the cache at a
 *   moment is fresh for every write acknowledged before that moment (the race rule and the evictions see to it), so
 *   for every write acknowledged before the waiter began, whichever of the two began first; and the key is the same,
 *   so scope (authorization), operation and variables are the same.
 *
 * Storage and bounds (entries, bytes, TTL) are lru-cache's; the tag index, sequence and plugin are written here, as
 * no library does tag invalidation for Apollo Server (its response-cache plugin has TTLs only).
 */

export interface ResponseCacheOptions {
  maxEntries: number;
  maxBytes: number;
  maxAgeMs: number;
  /** How many tags' last invalidation are remembered (older ones raise the floor instead). */
  maxTrackedTags?: number;
  /** How long a miss waits for another request's fetch of the same key before it fetches itself (default 2,000). */
  coalesceWaitMs?: number;
  logger: Logger;
  registry: Registry;
  now?: () => number;
}

interface Entry {
  result: Record<string, unknown>;
  tags: readonly string[];
  bytes: number;
}

/** What one request collects as its subgraph fetches answer (in the gateway context as `cache`). */
export interface RequestCacheState {
  key?: string;
  /** The invalidation sequence when the request started. */
  startSeq: number;
  kind: 'query' | 'mutation' | 'other';
  reads: Set<string>;
  fetches: number;
  /** Fetches that declared their reads (queries) or their changes (mutations). */
  declared: number;
  expiresAt?: number;
  hit?: boolean;
  /** Set while this request leads the fetch of its key (see ResponseCache.lead): called once it stored or gave up. */
  release?: () => void;
}

export const CACHE_HEADER = 'x-tiergraph-cache';
/** How long after an invalidation of everything the cache is cleared once more (see invalidate). */
const SECOND_SWEEP_MS = 1000;

export class ResponseCache {
  private readonly entries: LRUCache<string, Entry>;
  /** tag → keys of the entries that carry it. */
  private readonly byTag = new Map<string, Set<string>>();
  /** tag → the sequence number of its last invalidation. */
  private readonly invalidatedAt: LRUCache<string, number>;
  private seq = 0;
  /** Invalidations older than the tags remembered: every read started before it is refused. */
  private floor = 0;
  private live = false;
  private sweep: NodeJS.Timeout | undefined;
  /** Set while clear() empties the entries (their evictions count as 'cleared', not one tag's 'invalidated'). */
  private clearing = false;
  private readonly now: () => number;
  /** key → the fetch one request is making for it, and since when. */
  private readonly inflight = new Map<string, { done: Promise<void>; since: number }>();
  readonly metrics: ReturnType<typeof cacheMetrics>;

  constructor(private readonly options: ResponseCacheOptions) {
    this.now = options.now ?? Date.now;
    this.metrics = cacheMetrics(options.registry, () => this.entries.size, () => this.entries.calculatedSize);
    this.entries = new LRUCache<string, Entry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (entry) => entry.bytes,
      ttl: options.maxAgeMs,
      ttlAutopurge: false,
      // the clock read on every get (an injected one too), not a time cached for a millisecond
      ttlResolution: 0,
      allowStale: false,
      perf: { now: this.now },
      dispose: (entry, key, reason) => {
        for (const t of entry.tags) {
          const keys = this.byTag.get(t);
          keys?.delete(key);
          if (keys?.size === 0) this.byTag.delete(t);
        }
        if (reason !== 'set') this.metrics.evictions.inc({ reason: reason === 'evict' ? 'capacity' : reason === 'expire' ? 'expired' : this.clearing ? 'cleared' : 'invalidated' });
      },
    });
    this.invalidatedAt = new LRUCache<string, number>({
      max: options.maxTrackedTags ?? 100_000,
      dispose: (seq, _tag, reason) => {
        if (reason === 'evict' && seq > this.floor) this.floor = seq;
      },
    });
  }

  get size(): number {
    return this.entries.size;
  }

  isLive(): boolean {
    return this.live;
  }

  /** The LISTEN connection's state: down, nothing is trusted (cleared) and nothing is stored until it is back. */
  setLive(live: boolean): void {
    if (!live && this.live) this.options.logger.warn({ entries: this.entries.size }, 'response cache: change listener lost; cleared, bypassed until it is back');
    const wasLive = this.live;
    this.live = live;
    if (!live) this.clear('listener');
    // back: a read that began while it was down must not be stored either (raises the floor past it)
    else if (!wasLive) this.clear('reconnected');
  }

  begin(): number {
    return this.seq;
  }

  /**
   * Marks this request as the one fetching `key`: answers the release to call once its answer was stored (or not),
   * or undefined when another request leads it already. A leader that never releases stops counting after
   * coalesceWaitMs.
   */
  lead(key: string): (() => void) | undefined {
    const current = this.inflight.get(key);
    if (current && this.now() - current.since < this.waitMs) return undefined;
    let release!: () => void;
    const record = { done: new Promise<void>((resolve) => (release = resolve)), since: this.now() };
    this.inflight.set(key, record);
    return () => {
      if (this.inflight.get(key) === record) this.inflight.delete(key);
      release();
    };
  }

  /** Waits (at most coalesceWaitMs) for the fetch another request leads for `key`; answers whether there was one. */
  async awaitLeader(key: string): Promise<boolean> {
    const current = this.inflight.get(key);
    if (!current) return false;
    if (this.now() - current.since >= this.waitMs) {
      // a leader that never released (its request ended without willSendResponse): forget it
      this.inflight.delete(key);
      return false;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([current.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.waitMs)).unref())]);
    clearTimeout(timer);
    this.metrics.coalesced.inc();
    return true;
  }

  private get waitMs(): number {
    return this.options.coalesceWaitMs ?? 2000;
  }

  get(key: string): Entry | undefined {
    if (!this.live) return undefined;
    return this.entries.get(key);
  }

  /** Stores `result` unless a tag was invalidated after `startSeq`; answers whether it did. */
  store(key: string, result: Record<string, unknown>, tags: readonly string[], startSeq: number, expiresAt?: number): boolean {
    if (!this.live) return this.refused('not-live');
    if (this.floor > startSeq) return this.refused('raced');
    for (const t of tags) if ((this.invalidatedAt.get(t) ?? 0) > startSeq) return this.refused('raced');
    const ttl = Math.min(this.options.maxAgeMs, expiresAt === undefined ? Infinity : expiresAt - this.now());
    if (!(ttl > 0)) return this.refused('expired');
    const bytes = Buffer.byteLength(JSON.stringify(result)) + key.length + tags.reduce((n, t) => n + t.length, 0);
    if (bytes > this.options.maxBytes) return this.refused('too-large');
    this.entries.set(key, { result, tags, bytes }, { ttl: Math.max(1, Math.floor(ttl)) });
    if (!this.entries.has(key)) return this.refused('too-large');
    for (const t of tags) {
      let keys = this.byTag.get(t);
      if (!keys) this.byTag.set(t, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  /** Evicts every entry carrying one of `tags` (`*`: all) and records the invalidation for reads in flight. */
  invalidate(tags: Iterable<string>, source: 'response' | 'notify' | 'entitlements'): void {
    for (const t of tags) {
      this.metrics.invalidations.inc({ source });
      if (t === ALL_TAGS) {
        this.clear(source);
        // Subgraphs keep process caches of what `*` changes (billing's feature declarations), dropped by the same
        // NOTIFY, which may reach them after it reached this gateway: a read in that gap would store what they still
        // held. A second clear a moment later removes such an entry (tier and catalog changes are rare).
        // (a `*` from an answer — a write that named nothing — is followed by the NOTIFY, if the database says so)
        if (source !== 'response') {
          clearTimeout(this.sweep);
          this.sweep = setTimeout(() => this.clear('second sweep after *'), SECOND_SWEEP_MS);
          this.sweep.unref();
        }
        continue;
      }
      this.invalidatedAt.set(t, ++this.seq);
      const keys = this.byTag.get(t);
      if (!keys) continue;
      for (const key of [...keys]) this.entries.delete(key);
    }
  }

  /** Drops every entry; reads in flight are refused. */
  clear(reason: string): void {
    this.floor = ++this.seq;
    this.invalidatedAt.clear();
    this.metrics.clears.inc({ reason });
    if (this.entries.size) this.options.logger.debug({ reason, entries: this.entries.size }, 'response cache cleared');
    this.clearing = true;
    try {
      this.entries.clear();
    } finally {
      this.clearing = false;
    }
    this.byTag.clear();
  }

  private refused(reason: string): false {
    this.metrics.refused.inc({ reason });
    return false;
  }
}

function cacheMetrics(registry: Registry, entries: () => number, bytes: () => number) {
  const lookups = new Counter({
    name: 'tiergraph_gateway_response_cache_lookups_total',
    help: 'Response cache lookups of read operations: hit, miss, or bypass (listener down)',
    labelNames: ['result'],
    registers: [registry],
  });
  const evictions = new Counter({
    name: 'tiergraph_gateway_response_cache_evictions_total',
    help: 'Entries that left the response cache, by reason (invalidated by a tag, cleared with everything, capacity, expired)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const invalidations = new Counter({
    name: 'tiergraph_gateway_response_cache_invalidations_total',
    help: 'Tags invalidated, by where the change was learnt (response extensions, NOTIFY, entitlement NOTIFY)',
    labelNames: ['source'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'tiergraph_gateway_response_cache_uncacheable_total',
    help: 'Read answers not stored, by reason (untagged, errors, raced, not-live, expired, too-large)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const clears = new Counter({
    name: 'tiergraph_gateway_response_cache_clears_total',
    help: 'Times the whole response cache was cleared, by reason (`*` from an answer or a NOTIFY, listener lost or back, second sweep)',
    labelNames: ['reason'],
    registers: [registry],
  });
  new Gauge({ name: 'tiergraph_gateway_response_cache_entries', help: 'Entries in the response cache', registers: [registry], collect() { this.set(entries()); } });
  new Gauge({ name: 'tiergraph_gateway_response_cache_bytes', help: 'Approximate bytes of the response cache', registers: [registry], collect() { this.set(bytes()); } });
  const coalesced = new Counter({
    name: 'tiergraph_gateway_response_cache_coalesced_total',
    help: 'Misses that waited for another request fetching the same key, then looked up again (a hit if it was stored)',
    registers: [registry],
  });
  return { lookups, evictions, invalidations, refused, clears, coalesced };
}

/** The cache key's scope: what of the verified token can make two answers differ. */
export function scopeOf(caller: Caller): string {
  switch (caller.role) {
    // JSON, so no id can run into the next one (ids may hold any character)
    case 'store':
      return JSON.stringify([caller.role, caller.userId, caller.merchantId, caller.storeId]);
    case 'merchant':
      return JSON.stringify([caller.role, caller.userId, caller.merchantId]);
    default:
      return JSON.stringify([caller.role, caller.userId]);
  }
}

export function cacheKey(scope: string, queryHash: string, operationName: string | undefined | null, variables: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([scope, queryHash, operationName ?? null, variables ?? null]))
    .digest('base64url');
}

interface CacheContext {
  caller?: Caller;
  cache?: RequestCacheState;
}

const MUTATION = /^\s*mutation\b/;

/**
 * Called from the subgraph data source as each fetch starts (authenticated-data-source.ts): a query counts every
 * fetch, a mutation only its writing fetches (`mutation …`; the reads that follow for the answer's fields are not
 * cached and change nothing).
 */
export function countsFetch(state: RequestCacheState | undefined, subgraphQuery: string | undefined): state is RequestCacheState {
  return !!state && (state.kind !== 'mutation' || MUTATION.test(subgraphQuery ?? ''));
}

/** Called as each counted fetch answers, with the subgraph's response extensions. */
export function recordFetch(cache: ResponseCache, state: RequestCacheState, extensions: Record<string, unknown> | undefined): void {
  const tags = extensions?.tags as TagsExtension | undefined;
  if (state.kind === 'mutation') {
    if (tags?.changed) {
      state.declared++;
      // before the mutation's caller gets the answer (read-your-writes)
      cache.invalidate(tags.changed, 'response');
    }
    return;
  }
  if (!tags?.reads) return;
  state.declared++;
  for (const t of tags.reads) state.reads.add(t);
  if (tags.expiresAt !== undefined && (state.expiresAt === undefined || tags.expiresAt < state.expiresAt)) state.expiresAt = tags.expiresAt;
}

/** The Apollo Server plugin: looks up before execution, stores after, evicts for mutations; sets x-tiergraph-cache. */
export function responseCachePlugin<TContext extends CacheContext>(cache: ResponseCache): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ contextValue }) {
      contextValue.cache = { startSeq: cache.begin(), kind: 'other', reads: new Set(), fetches: 0, declared: 0 };
      return {
        async responseForOperation({ operation, queryHash, request, contextValue: context, response }) {
          const state = context.cache!;
          state.kind = operation.operation === 'query' ? 'query' : operation.operation === 'mutation' ? 'mutation' : 'other';
          if (state.kind !== 'query' || !context.caller || !queryHash) return null;
          if (!cache.isLive()) {
            cache.metrics.lookups.inc({ result: 'bypass' });
            return null;
          }
          state.key = cacheKey(scopeOf(context.caller), queryHash, request.operationName, request.variables);
          let entry = cache.get(state.key);
          // another request is fetching this very key: wait for it and look up again (see the class comment)
          if (!entry && (await cache.awaitLeader(state.key))) entry = cache.get(state.key);
          cache.metrics.lookups.inc({ result: entry ? 'hit' : 'miss' });
          if (!entry) {
            state.release = cache.lead(state.key);
            return null;
          }
          state.hit = true;
          return { http: response.http, body: { kind: 'single', singleResult: entry.result } };
        },
        async willSendResponse(requestContext) {
          const state = requestContext.contextValue.cache!;
          try {
            storeAnswer(cache, state, requestContext.response);
          } finally {
            state.release?.();
          }
        },
      };
    },
  };
}

/** After a request: evicts for a mutation that named nothing, stores a query's answer when it may be. */
function storeAnswer(cache: ResponseCache, state: RequestCacheState, response: GraphQLResponse): void {
  if (state.kind === 'mutation') {
    // a write that did not say what it changed may have changed anything
    if (state.fetches > state.declared) cache.invalidate([ALL_TAGS], 'response');
    return;
  }
  if (state.kind !== 'query' || !state.key) return;
  response.http.headers.set(CACHE_HEADER, state.hit ? 'hit' : 'miss');
  if (state.hit || response.body.kind !== 'single') return;
  const result = response.body.singleResult;
  if (result.errors?.length || !result.data) return void cache.metrics.refused.inc({ reason: 'errors' });
  if (state.fetches === 0 || state.declared < state.fetches) return void cache.metrics.refused.inc({ reason: 'untagged' });
  cache.store(state.key, result as Record<string, unknown>, [...state.reads], state.startSeq, state.expiresAt);
}
