import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLResolveInfo, OperationDefinitionNode } from 'graphql';
import { merchantPlatformKey, type MerchantPlatform } from './keys';
import { requestScope } from './server';

/**
 * Response tags: what a subgraph's answer depends on and what a write changed, for the gateway's response cache
 * (gateway/src/response-cache.ts). One mechanism for every subgraph:
 *
 * - reads: a resolver names the entities its data comes from (`ctx.tags.depends(info, …)`); the plugin below writes
 *   them into the response's `extensions.tags.reads`, but only when every root field of the operation declared (an
 *   `_entities` fetch counts as one root field), so a field nobody tagged makes the whole fetch uncacheable;
 * - writes: the code that changes a tagged entity names it (`changedTags(…)`, `notifyTagsChanged(manager, …)`, the
 *   counter triggers of counters.ts); the plugin writes `extensions.tags.changed` (the gateway evicts before it
 *   answers the caller) and PostgreSQL delivers the NOTIFY on TAGS_CHANNEL on commit (other gateways, and writes
 *   that do not pass a gateway: webhooks, jobs, SQL).
 *
 * A tag is a short string: `ms:<merchantId>:<platformId>` (one merchant's subscription on one platform and every
 * usage counted for it), `merchant:<id>` (tenancy's merchant row), `store:<id>`, `platform:<id>` (a platform row), `tiers` (the tier table and its
 * limits), `features` (the feature catalog). `*` means everything.
 */

/** The channel the gateway LISTENs on for changed tags (payload: tags separated by spaces; `*` = all). */
export const TAGS_CHANNEL = 'tiergraph_tags';
/** Every entry. Sent when a payload would not fit NOTIFY's 8,000 bytes. */
export const ALL_TAGS = '*';
/** NOTIFY payloads must stay under 8,000 bytes. */
export const MAX_TAGS_PAYLOAD = 7_900;

export const tag = {
  merchantPlatform: (pair: MerchantPlatform) => `ms:${merchantPlatformKey(pair)}`,
  merchant: (merchantId: string) => `merchant:${merchantId}`,
  store: (storeId: string) => `store:${storeId}`,
  platform: (platformId: string) => `platform:${platformId}`,
  tiers: 'tiers',
  features: 'features',
} as const;

/** The `extensions.tags` a subgraph answer carries. */
export interface TagsExtension {
  reads?: string[];
  changed?: string[];
  /** Unix ms after which the answer may be out of date although nothing was written (a period ends). */
  expiresAt?: number;
}

/** The per-request collector: in every subgraph context as `tags`, and in requestScope for code without one. */
export class ResponseTags {
  readonly reads = new Set<string>();
  readonly changed = new Set<string>();
  /** Root fields (response keys) whose resolvers declared what they read. */
  readonly covered = new Set<string>();
  expiresAt: number | undefined;
  private refused = false;
  /** A write frame of this request threw inside its transaction, so it rolled back (see rolledBack). */
  private undone = false;

  /** The answer of `info`'s field (and everything below it) depends on `tags`. */
  depends(info: Pick<GraphQLResolveInfo, 'path'>, ...tags: string[]): void {
    for (const t of tags) this.reads.add(t);
    let path = info.path;
    while (path.prev) path = path.prev;
    this.covered.add(String(path.key));
  }

  /** The answer may be out of date from `at` on (a period end, a trial end), writes or not. */
  validUntil(at: Date | string | number | null | undefined): void {
    if (at === null || at === undefined) return;
    const ms = typeof at === 'number' ? at : new Date(at).getTime();
    if (Number.isFinite(ms) && (this.expiresAt === undefined || ms < this.expiresAt)) this.expiresAt = ms;
  }

  /** This answer must not be cached (it depends on something no tag names, e.g. the clock). */
  uncacheable(): void {
    this.refused = true;
  }

  change(...tags: string[]): void {
    for (const t of tags) this.changed.add(t);
  }

  /**
   * A write of this request threw inside its transaction (a create refused at its limit, a unique violation), so
   * the transaction rolled back and nothing of it was written (its NOTIFYs are dropped with it). A mutation that
   * names no change would otherwise say nothing, which the gateway must read as "may have changed anything" and
   * clear its whole cache for; with this, a one-field mutation says `changed: []` instead (see extension).
   */
  rolledBack(): void {
    this.undone = true;
  }

  /** The extension to send, or undefined when there is nothing to say. */
  extension(operation: OperationDefinitionNode | undefined): TagsExtension | undefined {
    const out: TagsExtension = {};
    const keys = operation ? rootKeys(operation) : [];
    if (this.changed.size) out.changed = [...this.changed];
    // "changed nothing" only for a mutation of one root field: GraphQL runs every field of a mutation even when one
    // fails, so with two a rolled-back one would speak for a sibling that may have written without naming it
    else if (this.undone && operation?.operation === 'mutation' && keys.length === 1 && keys[0] !== FRAGMENT) out.changed = [];
    if (operation?.operation === 'query' && !this.refused && this.reads.size && keys.every((k) => this.covered.has(k))) {
      out.reads = [...this.reads];
      if (this.expiresAt !== undefined) out.expiresAt = this.expiresAt;
    }
    return out.reads || out.changed ? out : undefined;
  }
}

const FRAGMENT = '(fragment)';

function rootKeys(operation: OperationDefinitionNode): string[] {
  const keys: string[] = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== 'Field') return [FRAGMENT]; // never covered: the gateway sends plain fields
    if (selection.name.value === '__typename') continue;
    keys.push(selection.alias?.value ?? selection.name.value);
  }
  return keys;
}

/**
 * The current request's collector, for code that is not handed the context (stores, writers). Only a request that may
 * write runs in requestScope (server.ts): under a read there is none, and a read names no change.
 */
function currentResponseTags(): ResponseTags | undefined {
  return requestScope.getStore()?.tags;
}

/** Names tags this request changed, for its answer's extensions (the NOTIFY is the triggers' or notifyTagsChanged's). */
export function changedTags(...tags: string[]): void {
  currentResponseTags()?.change(...tags);
}

/** A write of this request rolled back (it threw inside its transaction): see ResponseTags.rolledBack. */
export function writeRolledBack(): void {
  currentResponseTags()?.rolledBack();
}

/** The NOTIFY payload for `tags`: separated by spaces, or `*` when it would not fit. */
export function tagsPayload(tags: Iterable<string>): string {
  const payload = [...new Set(tags)].join(' ');
  return payload.length > MAX_TAGS_PAYLOAD ? ALL_TAGS : payload;
}

/** Whatever runs a statement in the caller's transaction and answers its rows: a TypeORM manager, a pg client adapted. */
export interface SqlRunner {
  query(text: string, parameters?: unknown[]): Promise<any>;
}

/** Publishes `tags` as changed: in this request's answer, and by NOTIFY when (and only if) the transaction commits. */
export async function notifyTagsChanged(manager: SqlRunner, tags: string[]): Promise<void> {
  if (!tags.length) return;
  changedTags(...tags);
  await manager.query('SELECT pg_notify($1, $2)', [TAGS_CHANNEL, tagsPayload(tags)]);
}

/** The tags of a NOTIFY payload on TAGS_CHANNEL. */
export function parseTagsPayload(payload: string | undefined): string[] {
  return payload ? payload.split(' ').filter(Boolean) : [ALL_TAGS];
}

/** Writes the request's `extensions.tags` (subgraph side). */
export function responseTagsPlugin<TContext extends { tags?: ResponseTags }>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, operation, response }) {
          if (response.body.kind !== 'single') return;
          const extension = contextValue.tags?.extension(operation ?? undefined);
          if (!extension) return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, tags: extension };
        },
      };
    },
  };
}

/** SQL over a row with merchant_id and platform_id: its `ms:` tag, as tag.merchantPlatform spells it (keys.ts). */
export const MS_TAG_SQL = `'ms:' || merchant_id || ':' || platform_id`;
