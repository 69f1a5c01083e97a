import type { DataSource, EntityManager } from 'typeorm';
import { ALL_TAGS, MAX_TAGS_PAYLOAD, notifyTagsChanged, TAGS_CHANNEL, type SqlRunner } from './response-tags';

/**
 * Usage counters: one row per key (e.g. merchant, platform, store) holding what the owner's limit counts over its
 * rows (`sum(amount) WHERE counted`), so usage reads and limit checks are key look-ups instead of scans.
 *
 * The counter is kept by statement-level triggers on the counted table (transition tables, one upsert per statement
 * grouped by key: `INSERT … ON CONFLICT DO UPDATE SET n = n + EXCLUDED.n`). So every write path — the store's
 * insert under the feature's advisory lock, soft deletes, deactivations, deletes, also seeds and tests that write SQL
 * directly — changes the counter in the same transaction as the rows, and a rolled-back insert leaves it unchanged.
 * Concurrent increments of one key serialise on the counter row (the upsert's row lock), none is lost.
 *
 * The SQL here is written by the owners (table and column names, predicates), never input.
 */
export interface UsageCounterSpec {
  /** The counted table, e.g. `catalog.products`. */
  table: string;
  /** The counter table, e.g. `catalog.product_counts`. */
  counter: string;
  /** The key columns of the counter, their type and the expression over a counted row that gives them. */
  keys: ReadonlyArray<{ column: string; type: string; of?: string }>;
  /** Which rows count (SQL over the counted row's columns), e.g. `deleted_at IS NULL`. */
  counted: string;
  /** What a counted row adds: `1` to count rows, or a column such as `stored_bytes`. */
  amount: string;
}

const keyExprs = (spec: UsageCounterSpec) => spec.keys.map((k) => k.of ?? k.column);
const keyCols = (spec: UsageCounterSpec) => spec.keys.map((k) => k.column);
const fn = (spec: UsageCounterSpec) => `${spec.counter}_apply`;
const triggerBase = (spec: UsageCounterSpec) => spec.counter.split('.').pop() as string;

/** The rows of `source` (a table or transition table) grouped by key, each group's amount times `sign`. */
function deltas(spec: UsageCounterSpec, source: string, sign: 1 | -1): string {
  return `SELECT ${keyExprs(spec).map((e, i) => `${e} AS k${i}`).join(', ')}, ${sign === 1 ? '' : '-'}(${spec.amount})::bigint AS d FROM ${source} WHERE ${spec.counted}`;
}

function upsert(spec: UsageCounterSpec, rows: string): string {
  const ks = spec.keys.map((_, i) => `k${i}`).join(', ');
  return `INSERT INTO ${spec.counter} AS c (${keyCols(spec).join(', ')}, n)
      SELECT ${ks}, sum(d) FROM (${rows}) x GROUP BY ${ks} HAVING sum(d) <> 0 ORDER BY ${ks}
      ON CONFLICT (${keyCols(spec).join(', ')}) DO UPDATE SET n = c.n + EXCLUDED.n`;
}

/**
 * `<name>() RETURNS trigger …`: the trigger function, after CREATE or CREATE OR REPLACE. With `tags` (SQL over a
 * changed row, e.g. `'ms:' || merchant_id || ':' || platform_id`), each statement also NOTIFYs TAGS_CHANNEL with the
 * tags of the rows it changed (counted or not), which PostgreSQL delivers on commit: every write path, also SQL
 * that no service sees, tells the gateway's response cache what changed.
 */
function applyFunctionBody(spec: UsageCounterSpec, tags?: readonly string[]): string {
  const notify = (...sources: string[]) =>
    tags?.length
      ? `PERFORM pg_notify('${TAGS_CHANNEL}', CASE WHEN length(p) > ${MAX_TAGS_PAYLOAD} THEN '${ALL_TAGS}' ELSE p END)
           FROM (SELECT string_agg(DISTINCT t, ' ') AS p FROM (${sources
             .map((source) => `SELECT unnest(ARRAY[${tags.join(', ')}]::text[]) AS t FROM ${source}`)
             .join(' UNION ALL ')}) x) y
          WHERE p IS NOT NULL;`
      : '';
  return `${fn(spec)}() RETURNS trigger LANGUAGE plpgsql AS $fn$
     BEGIN
       IF TG_OP = 'INSERT' THEN
         ${upsert(spec, deltas(spec, 'new_rows', 1))};
         ${notify('new_rows')}
       ELSIF TG_OP = 'DELETE' THEN
         ${upsert(spec, deltas(spec, 'old_rows', -1))};
         ${notify('old_rows')}
       ELSIF TG_OP = 'UPDATE' THEN
         ${upsert(spec, `${deltas(spec, 'new_rows', 1)} UNION ALL ${deltas(spec, 'old_rows', -1)}`)};
         ${notify('new_rows', 'old_rows')}
       ELSIF TG_OP = 'TRUNCATE' THEN
         DELETE FROM ${spec.counter};
         ${tags?.length ? `PERFORM pg_notify('${TAGS_CHANNEL}', '${ALL_TAGS}');` : ''}
       END IF;
       RETURN NULL;
     END
     $fn$`;
}

/**
 * A migration that makes an existing counter's triggers also NOTIFY the response tags of the rows each statement
 * changes (see applyFunctionBody); `usageCounterTagsMigrationDown` takes the NOTIFY out again.
 */
export function usageCounterTagsMigration(spec: UsageCounterSpec, tags: readonly string[]): string[] {
  return [`CREATE OR REPLACE FUNCTION ${applyFunctionBody(spec, tags)}`];
}

export function usageCounterTagsMigrationDown(spec: UsageCounterSpec): string[] {
  return [`CREATE OR REPLACE FUNCTION ${applyFunctionBody(spec)}`];
}

/**
 * The statements of a migration that adds a counter: the table (primary key = the key columns), the trigger
 * function and its triggers, then the backfill from the existing rows. Creating the triggers locks the counted table
 * against writes until the migration commits, so the backfill is exact.
 */
export function usageCounterMigration(spec: UsageCounterSpec): string[] {
  const base = triggerBase(spec);
  return [
    `CREATE TABLE ${spec.counter} (
       ${spec.keys.map((k) => `${k.column} ${k.type} NOT NULL`).join(',\n       ')},
       n bigint NOT NULL DEFAULT 0,
       PRIMARY KEY (${keyCols(spec).join(', ')})
     )`,
    `CREATE FUNCTION ${applyFunctionBody(spec)}`,
    `CREATE TRIGGER ${base}_on_insert AFTER INSERT ON ${spec.table} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn(spec)}()`,
    `CREATE TRIGGER ${base}_on_update AFTER UPDATE ON ${spec.table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn(spec)}()`,
    `CREATE TRIGGER ${base}_on_delete AFTER DELETE ON ${spec.table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn(spec)}()`,
    `CREATE TRIGGER ${base}_on_truncate AFTER TRUNCATE ON ${spec.table} FOR EACH STATEMENT EXECUTE FUNCTION ${fn(spec)}()`,
    upsert(spec, deltas(spec, spec.table, 1)),
  ];
}

/** The statements that undo `usageCounterMigration`. */
export function usageCounterMigrationDown(spec: UsageCounterSpec): string[] {
  const base = triggerBase(spec);
  return [
    ...['insert', 'update', 'delete', 'truncate'].map((op) => `DROP TRIGGER ${base}_on_${op} ON ${spec.table}`),
    `DROP FUNCTION ${fn(spec)}()`,
    `DROP TABLE ${spec.counter}`,
  ];
}

/**
 * Recomputes a counter from the rows and corrects the keys that differ (idempotent: a second run changes nothing).
 * Holds the counted table in SHARE mode for the statement (reads go on, writes wait), so the result is exact.
 * Answers how many counter rows it corrected (inserted, updated or removed).
 */
export async function repairUsageCounter(db: DataSource, spec: UsageCounterSpec): Promise<number> {
  return db.transaction((manager: EntityManager) => repairUsageCounterIn(manager, spec));
}

/**
 * The same inside a transaction the caller holds, on anything that runs a statement and answers its rows (a TypeORM
 * manager, or a pg client adapted, as the repair script and the bench's loader do).
 */
export async function repairUsageCounterIn(db: SqlRunner, spec: UsageCounterSpec): Promise<number> {
  const [lock, repair] = repairUsageCounterSql(spec);
  await db.query(lock);
  const [{ changed }]: Array<{ changed: number }> = await db.query(repair);
  // the triggers sit on the counted table, not the counter: a correction names no tag of its own, so everything
  // cached from counters is evicted on commit (the gateway's response cache, response-tags.ts)
  if (changed > 0) await notifyTagsChanged(db, [ALL_TAGS]);
  return changed;
}

/** The lock, then the repair, which answers one row `{ changed }`. */
function repairUsageCounterSql(spec: UsageCounterSpec): [lock: string, repair: string] {
  const cols = keyCols(spec);
  const ks = spec.keys.map((_, i) => `k${i}`);
  return [
    `LOCK TABLE ${spec.table} IN SHARE MODE`,
    `WITH truth AS (
       SELECT ${ks.join(', ')}, sum(d)::bigint AS n FROM (${deltas(spec, spec.table, 1)}) x GROUP BY ${ks.join(', ')}
     ),
     fixed AS (
       INSERT INTO ${spec.counter} AS c (${cols.join(', ')}, n) SELECT ${ks.join(', ')}, n FROM truth ORDER BY ${ks.join(', ')}
       ON CONFLICT (${cols.join(', ')}) DO UPDATE SET n = EXCLUDED.n WHERE c.n IS DISTINCT FROM EXCLUDED.n
       RETURNING 1
     ),
     removed AS (
       DELETE FROM ${spec.counter} c
        WHERE c.n <> 0 AND NOT EXISTS (SELECT 1 FROM truth t WHERE ${cols.map((col, i) => `t.k${i} = c.${col}`).join(' AND ')})
       RETURNING 1
     )
     SELECT ((SELECT count(*) FROM fixed) + (SELECT count(*) FROM removed))::int AS changed`,
  ];
}

/** The counter's key rows that disagree with the rows they count (empty when exact): for tests and a repair job's report. */
export async function usageCounterDrift(db: DataSource | EntityManager, spec: UsageCounterSpec): Promise<Array<{ key: string[]; counter: number; rows: number }>> {
  const cols = keyCols(spec);
  const ks = spec.keys.map((_, i) => `k${i}`);
  const rows: Array<{ key: string[]; counter: string | null; truth: string | null }> = await db.query(
    `WITH truth AS (
       SELECT ${ks.join(', ')}, sum(d)::bigint AS n FROM (${deltas(spec, spec.table, 1)}) x GROUP BY ${ks.join(', ')}
     ),
     kept AS (SELECT ${cols.map((c, i) => `${c} AS k${i}`).join(', ')}, n FROM ${spec.counter})
     SELECT ARRAY[${ks.map((k) => `coalesce(t.${k}, c.${k})::text`).join(', ')}] AS key, c.n AS counter, t.n AS truth
       FROM truth t FULL JOIN kept c ON ${ks.map((k) => `t.${k} = c.${k}`).join(' AND ')}
      WHERE coalesce(t.n, 0) <> coalesce(c.n, 0)`,
  );
  return rows.map((r) => ({ key: r.key, counter: Number(r.counter ?? 0), rows: Number(r.truth ?? 0) }));
}
