import { Client } from 'pg';

/**
 * Forces racers to overlap: holds `LOCK TABLE … IN SHARE MODE` (reads go on, inserts wait) in a transaction of its
 * own while `run` starts, waits until `waiters` other backends of the database are blocked on a lock (the table's
 * or an advisory lock), then commits and returns what `run` resolves to.
 *
 * Without serialisation every racer that reached its transaction has counted and waits to insert, so they all
 * insert once the table is free: a race that cannot oversell by luck of scheduling. With the advisory lock one racer
 * waits on the table and the others on the advisory lock, so the count is taken again after each insert.
 */
export async function withInsertsHeld<T>(
  databaseUrl: string,
  table: string,
  waiters: number,
  run: () => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const holder = new Client({ connectionString: databaseUrl });
  await holder.connect();
  let released = false;
  try {
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${table} IN SHARE MODE`);
    const running = run();
    running.catch(() => undefined);
    await waitForLockWaiters(holder, waiters, timeoutMs);
    await holder.query('COMMIT');
    released = true;
    return await running;
  } finally {
    if (!released) await holder.query('ROLLBACK').catch(() => undefined);
    await holder.end();
  }
}

/** Resolves once at least `waiters` other backends of the client's database wait on a heavyweight lock. */
export async function waitForLockWaiters(client: Client, waiters: number, timeoutMs = 30_000, event?: 'advisory' | 'relation'): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // inside a transaction pg_stat_activity is a snapshot taken once: drop it to see the backends as they are now
    await client.query('SELECT pg_stat_clear_snapshot()');
    const [{ n }] = (
      await client.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND ($1::text IS NULL OR wait_event = $1)`,
        [event ?? null],
      )
    ).rows;
    if (n >= waiters) return n;
    if (Date.now() > deadline) throw new Error(`only ${n} of ${waiters} backends waited on a lock within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
