import { z } from 'zod';
import { isUuid } from './db';
import { BadUserInputError } from './errors';

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
export function afterPosition(after: string | null | undefined): KeysetPosition | null {
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
