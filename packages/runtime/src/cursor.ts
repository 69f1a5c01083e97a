import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { assertCanReadStore, type Caller } from './auth';
import { isUuid } from './db';
import { BadUserInputError, NotFoundError, parseInput } from './errors';
import type { StoreReference } from './features';

/**
 * Where a keyset page ends: the (created_at, id) of its last row (a product, a media file, …). created_at keeps
 * PostgreSQL's microseconds.
 */
export interface KeysetPosition {
  /** ISO 8601 in UTC with microseconds, e.g. 2024-11-21T10:00:00.123456Z */
  createdAt: string;
  id: string;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** An opaque cursor for a position. */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(`${position.createdAt}|${position.id}`, 'utf8').toString('base64url');
}

/** The position of a cursor made by encodeCursor, or null when it is not one. */
export function decodeCursor(cursor: string): KeysetPosition | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length || !createdAt || !id || !TIMESTAMP.test(createdAt) || !isUuid(id)) return null;
  // a real instant (no 30 February): the part up to the seconds survives a round trip through Date
  const millis = Date.parse(createdAt);
  if (Number.isNaN(millis) || new Date(millis).toISOString().slice(0, 19) !== createdAt.slice(0, 19)) return null;
  return { createdAt, id };
}

/** A Relay connection: what every paged list of the graph answers. */
export interface Connection<T> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: Array<{ cursor: string; node: T }>;
}

/** The connection of one page: each node with its cursor, and the page info (a previous page exists after a cursor). */
export function connectionOf<T>(page: { nodes: T[]; cursors: string[]; hasNextPage: boolean }, totalCount: number, afterACursor: boolean): Connection<T> {
  const edges = page.nodes.map((node, i) => ({ cursor: page.cursors[i], node }));
  return {
    totalCount,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: afterACursor,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    edges,
  };
}

/** The position of a client's `after` argument: null without one, BAD_USER_INPUT when it is not a cursor of this list. */
function afterPosition(after: string | null | undefined): KeysetPosition | null {
  if (after === null || after === undefined) return null;
  const position = decodeCursor(after);
  if (!position) throw new BadUserInputError('after is not a cursor of this list', 'after');
  return position;
}

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** A Relay list's `first` (parse it with parseInput): 1 to 100, 20 when null. */
export const relayPageArgs = z.object({
  first: z
    .number()
    .int()
    .min(1, 'must be at least 1')
    .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
    .nullish()
    .transform((value) => value ?? DEFAULT_PAGE_SIZE),
});

/** One page of one store's rows: `first` after `after`, of the store's rows of this merchant (the representation's). */
export interface StorePageRequest {
  storeId: string;
  merchantId: string;
  first: number;
  after: KeysetPosition | null;
}

export interface KeysetPage<T> {
  rows: T[];
  /** Each row's position (for its cursor), in the order of `rows`. */
  positions: KeysetPosition[];
  hasNextPage: boolean;
}

/** Where pages come from: a table with store_id, merchant_id, created_at and id, read in one direction. */
export interface StorePageSource {
  /** The table, e.g. `catalog.products` (SQL written by the caller, never input). */
  from: string;
  /** ASC: oldest first; DESC: newest first. */
  direction: 'ASC' | 'DESC';
  /** More conditions on the rows (alias `q`), e.g. `q.deleted_at IS NULL`. */
  where?: string;
}

/**
 * Pages of many stores in one statement: per request a LATERAL keyset scan over (created_at, id) that reads first + 1
 * rows (the extra row only says whether there is a next page). Requests naming ids that are not uuids get empty pages.
 * Positions keep created_at in UTC with PostgreSQL's microseconds: a JS Date would drop them and break keyset paging.
 */
export async function storeKeysetPages<Row extends { id: string }, T>(
  db: DataSource,
  source: StorePageSource,
  requests: readonly StorePageRequest[],
  rowOf: (row: Row) => T,
): Promise<KeysetPage<T>[]> {
  const pages: KeysetPage<T>[] = requests.map(() => ({ rows: [], positions: [], hasNextPage: false }));
  const asked = requests.flatMap((r, index) => (isUuid(r.storeId) && isUuid(r.merchantId) ? [{ ...r, index }] : []));
  if (!asked.length) return pages;
  const { direction } = source;
  const rows: Array<Row & { request: number; position_time: string }> = await db.query(
    `SELECT r.request::int AS request, x.*, to_char(x.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position_time
       FROM unnest($1::int[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::uuid[], $6::int[])
            AS r(request, store_id, merchant_id, after_time, after_id, page_size)
      CROSS JOIN LATERAL (
            SELECT *
              FROM ${source.from} q
             WHERE q.store_id = r.store_id
               AND q.merchant_id = r.merchant_id${source.where ? `\n               AND ${source.where}` : ''}
               AND (r.after_time IS NULL OR (q.created_at, q.id) ${direction === 'ASC' ? '>' : '<'} (r.after_time, r.after_id))
             ORDER BY q.created_at ${direction}, q.id ${direction}
             LIMIT r.page_size + 1) x
      ORDER BY r.request, x.created_at ${direction}, x.id ${direction}`,
    [
      asked.map((r) => r.index),
      asked.map((r) => r.storeId),
      asked.map((r) => r.merchantId),
      asked.map((r) => r.after?.createdAt ?? null),
      asked.map((r) => r.after?.id ?? null),
      asked.map((r) => r.first),
    ],
  );
  for (const row of rows) {
    const page = pages[row.request];
    if (page.rows.length === requests[row.request].first) {
      page.hasNextPage = true;
      continue;
    }
    page.rows.push(rowOf(row));
    page.positions.push({ createdAt: row.position_time, id: row.id });
  }
  return pages;
}

/** A page request's DataLoader cache key. */
export const storePageKey = (r: StorePageRequest): string => JSON.stringify([r.storeId, r.merchantId, r.first, r.after?.createdAt ?? null, r.after?.id ?? null]);

/** The two batched reads behind a store's connection (DataLoaders over storeKeysetPages and a per-store count). */
export interface StoreConnectionLoaders<T> {
  page: { load(request: StorePageRequest): Promise<KeysetPage<T>> };
  count: { load(key: { storeId: string; merchantId: string }): Promise<number> };
}

/**
 * A store's rows as a Relay connection (first 1 to 100, after an earlier endCursor), for a Store representation:
 * it must name its merchant (BAD_USER_INPUT otherwise), the rows are listed by store AND merchant, so a
 * representation naming another merchant lists nothing; ids that are not uuids are NOT_FOUND; the caller must be
 * able to read the store. Both ids are taken in lower case, as tenancy's uuids are stored and as PostgreSQL answers
 * them (like verifiedStore): an id in upper case names the same store, for the check, the rows and the cache keys.
 */
export async function storeConnection<T>(
  caller: Caller,
  store: StoreReference,
  args: { first?: number | null; after?: string | null },
  loaders: StoreConnectionLoaders<T>,
): Promise<Connection<T>> {
  if (!store.merchantId) throw new BadUserInputError('the Store representation needs merchantId', 'merchantId');
  if (!isUuid(store.id) || !isUuid(store.merchantId)) throw new NotFoundError('Store', store.id);
  const key = { storeId: store.id.toLowerCase(), merchantId: store.merchantId.toLowerCase() };
  assertCanReadStore(caller, { id: key.storeId, merchantId: key.merchantId });
  const { first } = parseInput(relayPageArgs, { first: args.first });
  const after = afterPosition(args.after);
  const [page, totalCount] = await Promise.all([loaders.page.load({ ...key, first, after }), loaders.count.load(key)]);
  return connectionOf({ nodes: page.rows, cursors: page.positions.map(encodeCursor), hasNextPage: page.hasNextPage }, totalCount, after !== null);
}
