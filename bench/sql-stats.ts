/**
 * SQL statements per request: pg_stat_statements when the server has it loaded (the bench's embedded PostgreSQL
 * gets `shared_preload_libraries = 'pg_stat_statements'` through ALTER SYSTEM, which takes effect at the next
 * start: see ensureStatementStats), else transactions from pg_stat_database (xact_commit + xact_rollback), which
 * count an autocommitted statement once and a whole transaction once.
 */
import { Client } from 'pg';

export type StatementSource = 'pg_stat_statements' | 'pg_stat_database transactions';

export interface SqlSnapshot {
  source: StatementSource;
  /** statements (or transactions) so far */
  statements: number;
  /** rows read by scans (tup_returned + tup_fetched): how much work they were */
  rowsRead: number;
}

/**
 * Whether pg_stat_statements can be counted now; when the library is not loaded yet, asks for it (ALTER SYSTEM)
 * and answers 'restart' so the caller restarts the server once. Other servers (DATABASE_URL) are left alone.
 */
export async function ensureStatementStats(databaseUrl: string): Promise<'ready' | 'restart' | 'unavailable'> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const loaded = (await client.query<{ shared_preload_libraries: string }>('SHOW shared_preload_libraries')).rows[0].shared_preload_libraries;
    if (loaded.split(',').map((s) => s.trim()).includes('pg_stat_statements')) {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      return 'ready';
    }
    const available = await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'`);
    if (!available.rowCount) return 'unavailable';
    await client.query(`ALTER SYSTEM SET shared_preload_libraries = ${quote(loaded ? `${loaded},pg_stat_statements` : 'pg_stat_statements')}`);
    return 'restart';
  } catch {
    return 'unavailable';
  } finally {
    await client.end();
  }
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

export class SqlStats {
  private constructor(
    private readonly client: Client,
    readonly source: StatementSource,
  ) {}

  static async open(databaseUrl: string): Promise<SqlStats> {
    const client = new Client({ connectionString: databaseUrl, application_name: 'bench-sql-stats' });
    await client.connect();
    let source: StatementSource = 'pg_stat_database transactions';
    try {
      await client.query('SELECT calls FROM pg_stat_statements LIMIT 1');
      source = 'pg_stat_statements';
    } catch {
      // not loaded: transactions only
    }
    return new SqlStats(client, source);
  }

  async snapshot(): Promise<SqlSnapshot> {
    // pg_stat_database is updated when a backend reports (at most once a second, or when idle): callers wait a moment
    const db = await this.client.query<{ tx: string; rows: string }>(
      `SELECT xact_commit + xact_rollback AS tx, tup_returned + tup_fetched AS rows FROM pg_stat_database WHERE datname = current_database()`,
    );
    let statements = Number(db.rows[0].tx);
    if (this.source === 'pg_stat_statements') {
      const { rows } = await this.client.query<{ n: string | null }>(
        `SELECT sum(calls) AS n FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND query NOT ILIKE '%pg_stat_%'
            AND query NOT ILIKE '%pgboss.%'`,
      );
      statements = Number(rows[0].n ?? 0);
    }
    return { source: this.source, statements, rowsRead: Number(db.rows[0].rows) };
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
