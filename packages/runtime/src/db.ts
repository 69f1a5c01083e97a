import 'reflect-metadata';
import { DataSource, type EntityManager, type EntityMetadata, type EntitySchema, type EntityTarget, type MixedList, type ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { groupUnder, merchantPlatformKey, pairParameters, type MerchantPlatform } from './keys';
import type { Logger } from './logger';

export interface SubgraphDatabaseOptions {
  /** postgres://… of the shared database; each subgraph lives in its own schema of it. */
  url: string;
  /** The PostgreSQL schema this subgraph owns, e.g. `tenancy`. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/ban-types
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/ban-types
  migrations: MixedList<Function | string>;
  poolSize?: number;
  applicationName?: string;
  /** How the batched loaders' reads are sent (LoaderSql; default `prepared`). */
  loaderSql?: LoaderSql;
}

/**
 * How the batched reads below (findByKeys, findGroupedByKeys, findGroupedByPairs, findByPairs) reach PostgreSQL:
 * `prepared` (default): a SELECT built once per entity and condition, sent as a named prepared statement straight
 * to the pg pool, rows hydrated from the entity's column metadata; `typeorm`: a QueryBuilder per call (builds and
 * escapes the SQL, a query runner, TypeORM's hydration), as before. Same rows, same objects.
 */
export type LoaderSql = 'prepared' | 'typeorm';
const loaderSqlOf = new WeakMap<DataSource, LoaderSql>();

/** A TypeORM DataSource for one subgraph's schema. Never `synchronize`: the schema comes from migrations. */
export function createSubgraphDataSource(options: SubgraphDatabaseOptions): DataSource {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    applicationName: options.applicationName ?? `tiergraph-${options.schema}`,
    extra: { max: options.poolSize ?? 10 },
  });
  if (options.loaderSql) loaderSqlOf.set(dataSource, options.loaderSql);
  return dataSource;
}

/**
 * Runs the pending migrations of one subgraph's schema. Serialised across processes with an advisory lock,
 * so several instances starting at once apply each migration exactly once.
 */
export async function runMigrations(dataSource: DataSource, logger?: Logger): Promise<string[]> {
  const schema = (dataSource.options as { schema?: string }).schema;
  if (!schema) throw new Error('runMigrations needs a DataSource with a schema');
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    await lockRunner.query('SELECT pg_advisory_lock(hashtext($1))', [`tiergraph:migrations:${schema}`]);
    await lockRunner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length) logger?.info({ schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
    return applied.map((m) => m.name);
  } finally {
    await lockRunner.query('SELECT pg_advisory_unlock(hashtext($1))', [`tiergraph:migrations:${schema}`]).catch(() => undefined);
    await lockRunner.release();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are UUIDs; anything else cannot exist, so callers answer NOT_FOUND without asking the database. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

const lower = (value: unknown): unknown => (typeof value === 'string' ? value.toLowerCase() : value);

/**
 * The rows whose `key` is one of `keys`, in the order of `keys` (null where there is none), with one
 * `= ANY($1)` statement however many keys: the batch function behind a subgraph's DataLoaders.
 *
 * String keys match case-insensitively: ids may arrive in upper case (isUuid accepts it) while PostgreSQL
 * returns uuids in lower case, and codes are stored in lower case. The statement asks for each key as given
 * and lower-cased (the column's index still serves it); rows are matched exactly first, then lower-cased.
 */
export async function findByKeys<T extends ObjectLiteral, K extends keyof T & string>(
  db: DataSource,
  entity: EntityTarget<T>,
  key: K,
  keys: readonly T[K][],
): Promise<(T | null)[]> {
  const wanted = [...new Set(keys.flatMap((k) => (typeof k === 'string' ? [k, k.toLowerCase()] : [k])))];
  const prepared = preparedReader(db, entity);
  const rows = prepared
    ? await prepared.select(`e.${quoted(prepared.columnOf(key))} = ANY($1)`, [wanted])
    : await db
        .getRepository(entity)
        .createQueryBuilder('e')
        .where(`e.${key} = ANY(:keys)`, { keys: wanted })
        .getMany();
  const byKey = new Map<unknown, T>(rows.map((row) => [row[key], row]));
  const byLowerKey = new Map<unknown, T>();
  for (const row of rows) if (!byLowerKey.has(lower(row[key]))) byLowerKey.set(lower(row[key]), row);
  return keys.map((k) => byKey.get(k) ?? byLowerKey.get(lower(k)) ?? null);
}

/** A row of findByKeysWith: the entity, and the values of the extra expressions read beside it. */
export interface RowWith<T, X extends string> {
  row: T;
  extras: Record<X, unknown>;
}

/**
 * findByKeys with more values per row read in the same statement: `extras` names SQL expressions on the alias `e`
 * (written by the caller, never input), e.g. a correlated subquery with `json_agg` of the rows that belong to it.
 * One `= ANY($1)` statement however many keys; in the order of `keys` (null where there is none). Ids (uuids) only.
 */
export async function findByKeysWith<T extends ObjectLiteral, K extends keyof T & string, X extends string>(
  db: DataSource,
  entity: EntityTarget<T>,
  key: K,
  keys: readonly string[],
  extras: Record<X, string>,
): Promise<(RowWith<T, X> | null)[]> {
  const wanted = [...new Set(keys.map((k) => k.toLowerCase()))];
  const names = Object.keys(extras) as X[];
  const alias = (name: string) => `extra_${name}`;
  const prepared = preparedReader(db, entity);
  let found: Array<RowWith<T, X>>;
  if (prepared) {
    const select = names.map((n) => `(${extras[n]}) AS ${quoted(alias(n))}`).join(', ');
    found = await prepared.selectWith(`e.${quoted(prepared.columnOf(key))} = ANY($1)`, [wanted], select, (raw) =>
      Object.fromEntries(names.map((n) => [n, raw[alias(n)]])) as Record<X, unknown>,
    );
  } else {
    const query = db.getRepository(entity).createQueryBuilder('e').where(`e.${key} = ANY(:keys)`, { keys: wanted });
    for (const n of names) query.addSelect(`(${extras[n]})`, alias(n));
    const { entities, raw } = await query.getRawAndEntities();
    // no joins: one entity per raw row, in the same order
    found = entities.map((row, i) => ({ row, extras: Object.fromEntries(names.map((n) => [n, raw[i][alias(n)]])) as Record<X, unknown> }));
  }
  const byKey = new Map<unknown, RowWith<T, X>>(found.map((f) => [lower(f.row[key]), f]));
  return keys.map((k) => byKey.get(k.toLowerCase()) ?? null);
}

/** How each group is sorted: SQL terms on the alias `e`, e.g. [['e.created_at', 'ASC'], ['e.id', 'ASC']]. */
export type GroupOrder = ReadonlyArray<readonly [term: string, direction: 'ASC' | 'DESC']>;

async function findGrouped<T extends ObjectLiteral>(
  db: DataSource,
  entity: EntityTarget<T>,
  condition: { sql: string; values: unknown[]; typeorm: string; parameters: Record<string, unknown> },
  order: GroupOrder,
  keys: readonly string[],
  keyOf: (row: T) => string,
): Promise<T[][]> {
  const prepared = preparedReader(db, entity);
  if (prepared) return groupUnder(keys, await prepared.select(condition.sql, condition.values, order), keyOf);
  const query = db.getRepository(entity).createQueryBuilder('e').where(condition.typeorm, condition.parameters);
  order.forEach(([term, direction], i) => (i === 0 ? query.orderBy(term, direction) : query.addOrderBy(term, direction)));
  return groupUnder(keys, await query.getMany(), keyOf);
}

const PAIRS_SQL = `(e.merchant_id, e.platform_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))`;
const PAIRS_TYPEORM = `(e.merchant_id, e.platform_id) IN (SELECT * FROM unnest(:merchants::uuid[], :platforms::uuid[]))`;

function pairCondition(pairs: readonly MerchantPlatform[]) {
  const parameters = pairParameters(pairs);
  return { sql: PAIRS_SQL, values: [parameters.merchants, parameters.platforms], typeorm: PAIRS_TYPEORM, parameters };
}

/** One row per merchant and platform (the entity's `merchant_id`, `platform_id` are unique), in the order of `pairs`. */
export async function findByPairs<T extends ObjectLiteral & MerchantPlatform>(db: DataSource, entity: EntityTarget<T>, pairs: readonly MerchantPlatform[]): Promise<(T | null)[]> {
  const condition = pairCondition(pairs);
  const prepared = preparedReader(db, entity);
  const rows = prepared ? await prepared.select(condition.sql, condition.values) : await db.getRepository(entity).createQueryBuilder('e').where(condition.typeorm, condition.parameters).getMany();
  const byPair = new Map(rows.map((r) => [merchantPlatformKey(r), r]));
  return pairs.map((p) => byPair.get(merchantPlatformKey(p)) ?? null);
}

type PgPool = { query: (config: { name: string; text: string; values: unknown[] }) => Promise<{ rows: Record<string, unknown>[] }> };
const poolOf = (db: DataSource): PgPool | undefined => (db.driver as unknown as { master?: PgPool }).master;
const statementNames = new Map<string, string>();
let statementCount = 0;
const statementNameOf = (text: string): string => {
  let name = statementNames.get(text);
  if (!name) statementNames.set(text, (name = `tiergraph_loader_${++statementCount}`));
  return name;
};

/**
 * A read of the batched loaders (SQL written by the caller, never input; positional parameters): with LoaderSql
 * `prepared`, a named prepared statement straight to the pg pool (parsed and planned once per connection, no
 * query runner); with `typeorm`, or given an EntityManager (a transaction's), `db.query` as before. Reads only.
 */
export async function loaderQuery<T = Record<string, unknown>>(db: DataSource | EntityManager, text: string, values: unknown[]): Promise<T[]> {
  // an EntityManager (a transaction's, e.g. the limit check under its lock) keeps its own connection
  const pool = db instanceof DataSource && (loaderSqlOf.get(db) ?? 'prepared') === 'prepared' ? poolOf(db) : undefined;
  if (!pool) return db.query(text, values);
  return (await pool.query({ name: statementNameOf(text), text, values })).rows as T[];
}

/** Reads one entity's rows with SQL built once (LoaderSql `prepared`); null when that is off or the entity has relations. */
interface PreparedReader<T> {
  /** `condition` and `order` on the alias `e`, positional parameters; SQL written by the caller, never input. */
  select(condition: string, values: unknown[], order?: GroupOrder): Promise<T[]>;
  /** The same with more expressions selected after the entity's columns, each row with what `extrasOf` takes of them. */
  selectWith<X>(condition: string, values: unknown[], extras: string, extrasOf: (raw: Record<string, unknown>) => X): Promise<Array<{ row: T; extras: X }>>;
  /** The column of a property (as TypeORM's QueryBuilder maps `e.<property>`). */
  columnOf(property: string): string;
}

interface EntityShape {
  from: string;
  select: string;
  columns: ColumnMetadata[];
  metadata: EntityMetadata;
}
const shapes = new WeakMap<EntityMetadata, EntityShape | null>();

const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;

function shapeOf(metadata: EntityMetadata): EntityShape | null {
  let shape = shapes.get(metadata);
  if (shape !== undefined) return shape;
  // plain columns only: relations and embedded entities stay with TypeORM
  const plain = !metadata.relations.length && !metadata.embeddeds.length && metadata.columns.every((c) => !c.relationMetadata && !c.embeddedMetadata);
  // what getMany selects: `select: false` columns (billing's history `seq`) are left out, as TypeORM does
  const columns = metadata.columns.filter((c) => c.isSelect);
  shape = plain
    ? {
        from: `${metadata.schema ? `${quoted(metadata.schema)}.` : ''}${quoted(metadata.tableName)} e`,
        select: columns.map((c) => `e.${quoted(c.databaseName)} AS ${quoted(c.propertyName)}`).join(', '),
        columns,
        metadata,
      }
    : null;
  shapes.set(metadata, shape);
  return shape;
}

function preparedReader<T extends ObjectLiteral>(db: DataSource, entity: EntityTarget<T>): PreparedReader<T> | null {
  if ((loaderSqlOf.get(db) ?? 'prepared') !== 'prepared') return null;
  const shape = shapeOf(db.getMetadata(entity));
  if (!shape || !poolOf(db)) return null;
  return {
    columnOf: (property) => shape.metadata.findColumnWithPropertyName(property)?.databaseName ?? property,
    // the text names its prepared statement (loaderQuery), so building it per batch is all a statement costs here
    async select(condition, values, order = []) {
      const orderBy = order.length ? ` ORDER BY ${order.map(([term, direction]) => `${term} ${direction}`).join(', ')}` : '';
      const rows = await loaderQuery(db, `SELECT ${shape.select} FROM ${shape.from} WHERE ${condition}${orderBy}`, values);
      return rows.map((row) => hydrate<T>(db, shape, row));
    },
    async selectWith(condition, values, extras, extrasOf) {
      const rows = await loaderQuery(db, `SELECT ${shape.select}, ${extras} FROM ${shape.from} WHERE ${condition}`, values);
      return rows.map((row) => ({ row: hydrate<T>(db, shape, row), extras: extrasOf(row) }));
    },
  };
}

/**
 * The SELECT list of an entity's columns on the alias `e`, each named by its property (`e."merchant_id" AS
 * "merchantId", …`, the columns getMany selects): rows read with it through loaderQuery are plain objects with the
 * entity's properties as pg parses them, no hydration. Only for entities whose columns TypeORM hydrates as pg
 * parses them (uuid, text, integer, boolean, timestamptz: no transformer, no `date` or JSON column); and only plain
 * columns (no relations).
 */
export function entityColumnsSql(db: DataSource, entity: EntityTarget<ObjectLiteral>): string {
  const metadata = db.getMetadata(entity);
  const shape = shapeOf(metadata);
  if (!shape || shape.columns.some((c) => c.transformer || !PLAIN_TYPES.has(c.type))) throw new Error(`${metadata.name} has columns pg does not read as TypeORM hydrates them`);
  return shape.select;
}
// the column types whose pg value is the hydrated one (PostgresDriver.prepareHydratedValue leaves them as they are)
const PLAIN_TYPES = new Set<unknown>(['uuid', 'text', 'integer', 'boolean', 'timestamptz']);

/**
 * One row of `entity` on `alias` as a JSON object, each column under its property (`json_build_object('merchantId',
 * o."merchant_id", …)`, the columns getMany selects), for a sub-select that folds child rows into their parent's row
 * (`json_agg`); `entityFromJson` reads one back. Only entities whose every column JSON carries as TypeORM
 * hydrates it (uuid, text, integer, boolean: a timestamptz would come back as text) and only plain columns.
 */
export function entityJsonSql(db: DataSource, entity: EntityTarget<ObjectLiteral>, alias: string): string {
  const shape = jsonShapeOf(db, entity);
  return `json_build_object(${shape.columns.map((c) => `'${c.propertyName}', ${alias}.${quoted(c.databaseName)}`).join(', ')})`;
}

/** What makes the entity of an object built by entityJsonSql, as getMany would have made it (the entity checked once). */
export function entityFromJson<T extends ObjectLiteral>(db: DataSource, entity: EntityTarget<T>): (json: Record<string, unknown>) => T {
  const shape = jsonShapeOf(db, entity);
  return (json) => hydrate<T>(db, shape, json);
}

function jsonShapeOf(db: DataSource, entity: EntityTarget<ObjectLiteral>): EntityShape {
  const metadata = db.getMetadata(entity);
  const shape = shapeOf(metadata);
  if (!shape || shape.columns.some((c) => c.transformer || !JSON_TYPES.has(c.type))) throw new Error(`${metadata.name} has columns JSON does not carry as TypeORM hydrates them`);
  return shape;
}
// the column types whose JSON value is the hydrated one
const JSON_TYPES = new Set<unknown>(['uuid', 'text', 'integer', 'boolean']);

/** What TypeORM's getMany makes of a row: an instance of the entity (not constructed), each column's value as the driver hydrates it. */
function hydrate<T>(db: DataSource, shape: EntityShape, row: Record<string, unknown>): T {
  const entity = shape.metadata.create(undefined, { fromDeserializer: true }) as Record<string, unknown>;
  for (const column of shape.columns) entity[column.propertyName] = db.driver.prepareHydratedValue(row[column.propertyName], column);
  return entity as T;
}

/**
 * The children of many parents in one `= ANY($1)` statement on `column` (SQL, alias `e`), grouped per parent in the
 * order of `keys` by the row's `property`, each group sorted by `order`: the batch behind a list-valued DataLoader.
 */
export function findGroupedByKeys<T extends ObjectLiteral>(
  db: DataSource,
  entity: EntityTarget<T>,
  by: { column: string; property: keyof T & string },
  keys: readonly string[],
  order: GroupOrder,
): Promise<T[][]> {
  const condition = { sql: `e.${by.column} = ANY($1)`, values: [[...keys]], typeorm: `e.${by.column} = ANY(:keys)`, parameters: { keys: [...keys] } };
  return findGrouped(db, entity, condition, order, keys, (row) => String(row[by.property]));
}

/** The same per merchant and platform: `(merchant_id, platform_id) IN (SELECT * FROM unnest(…))`, grouped by pair. */
export function findGroupedByPairs<T extends ObjectLiteral & MerchantPlatform>(
  db: DataSource,
  entity: EntityTarget<T>,
  pairs: readonly MerchantPlatform[],
  order: GroupOrder,
): Promise<T[][]> {
  return findGrouped(db, entity, pairCondition(pairs), order, pairs.map(merchantPlatformKey), merchantPlatformKey);
}

/** What `aggregatePerPair` computes: `aggregate` over the rows of `from` (SQL written by the caller, never input). */
export interface PairAggregate {
  /** The table, e.g. `catalog.products`. */
  from: string;
  /** The two uuid columns of the key, e.g. ['merchant_id', 'platform_id'] or ['store_id', 'merchant_id']. */
  columns: readonly [string, string];
  /** e.g. `count(*)`; parameters after the key arrays are $3, $4, … */
  aggregate: string;
  /** More conditions, ANDed, e.g. `deleted_at IS NULL`. */
  where?: string;
  parameters?: unknown[];
}

/**
 * One number per key pair for many keys in one statement (`(a, b) IN (SELECT * FROM unnest(…)) GROUP BY a, b`), in
 * the order of `keys`: 0 where no row matches, and for ids that are not uuids (nothing can match them). `db` may be
 * a transaction's manager, so a limit check under a lock reads the same definition as the usage loader.
 */
export async function aggregatePerPair(db: DataSource | EntityManager, spec: PairAggregate, keys: ReadonlyArray<readonly [string, string]>): Promise<number[]> {
  return (await aggregateValuesPerPair(db, spec, keys)).map((value) => Number(value ?? 0));
}

/** The same, exact beyond 2^53 (e.g. bytes): the aggregate must be a whole number. */
export async function aggregateBigIntPerPair(db: DataSource | EntityManager, spec: PairAggregate, keys: ReadonlyArray<readonly [string, string]>): Promise<bigint[]> {
  return (await aggregateValuesPerPair(db, spec, keys)).map((value) => BigInt(value ?? 0));
}

async function aggregateValuesPerPair(
  db: DataSource | EntityManager,
  spec: PairAggregate,
  keys: ReadonlyArray<readonly [string, string]>,
): Promise<Array<string | number | null>> {
  const valid = keys.filter(([a, b]) => isUuid(a) && isUuid(b));
  if (!valid.length) return keys.map(() => null);
  const [a, b] = spec.columns;
  const rows = await loaderQuery<{ a: string; b: string; value: string | number }>(
    db,
    `SELECT ${a} AS a, ${b} AS b, ${spec.aggregate} AS value
       FROM ${spec.from}
      WHERE (${a}, ${b}) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))${spec.where ? ` AND ${spec.where}` : ''}
      GROUP BY ${a}, ${b}`,
    [valid.map(([x]) => x), valid.map(([, y]) => y), ...(spec.parameters ?? [])],
  );
  const values = new Map(rows.map((row) => [`${row.a}:${row.b}`, row.value]));
  return keys.map(([x, y]) => values.get(`${x.toLowerCase()}:${y.toLowerCase()}`) ?? null);
}
