/**
 * Rebuilds the owners' usage counters (issue 12) from their rows: catalog.product_counts, tenancy.team_member_counts,
 * media.stored_bytes_counts, orders.order_counts. Idempotent; each counter under a SHARE lock of its table (reads go
 * on, writes of that table wait for the one statement). For a cron or an operator after a restore or a bulk load
 * with triggers off. A correction NOTIFYs `*` on commit, so the gateway's response cache forgets what it built from
 * the counters (runtime's repairUsageCounterIn, which each subgraph's repair function also runs).
 *
 *   DATABASE_URL=postgres://… pnpm repair:usage-counters
 */
import { PRODUCT_COUNTS } from '@tiergraph/catalog/src/store/counters';
import { STORED_BYTES } from '@tiergraph/media/src/store/counters';
import { ORDER_COUNTS } from '@tiergraph/orders/src/store/counters';
import { repairUsageCounterIn, type UsageCounterSpec } from '@tiergraph/runtime/src/counters';
import { TEAM_MEMBER_COUNTS } from '@tiergraph/tenancy/src/store/counters';
import { Client } from 'pg';

export const USAGE_COUNTERS: readonly UsageCounterSpec[] = [PRODUCT_COUNTS, TEAM_MEMBER_COUNTS, STORED_BYTES, ORDER_COUNTS];

/** Repairs every counter, spread over the given connections; answers the counter rows corrected per counter table. */
export async function repairUsageCounters(clients: readonly Client[]): Promise<Record<string, number>> {
  const changed: Record<string, number> = {};
  await Promise.all(
    clients.map(async (client, lane) => {
      for (const spec of USAGE_COUNTERS.filter((_, i) => i % clients.length === lane)) {
        await client.query('BEGIN');
        try {
          changed[spec.counter] = await repairUsageCounterIn({ query: async (text: string, values?: unknown[]) => (await client.query(text, values)).rows }, spec);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    }),
  );
  return changed;
}

if (require.main === module) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('DATABASE_URL is required (a postgres:// URL of a migrated tiergraph database)\n');
    process.exit(2);
  }
  const client = new Client({ connectionString: url });
  client
    .connect()
    .then(() => repairUsageCounters([client]))
    .then((changed) => process.stdout.write(`${JSON.stringify(changed)}\n`))
    .finally(() => client.end())
    .catch((error: Error) => {
      process.stderr.write(`repairing the usage counters failed: ${error.stack ?? error.message}\n`);
      process.exit(1);
    });
}
