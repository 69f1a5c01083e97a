import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../scripts/lib/embedded-postgres';
import { migrateAll } from '../scripts/lib/migrate';

/** The PostgreSQL of a test run: the embedded server it started (if any), its admin URL and the migrated template. */
export interface TestPostgres {
  server?: EmbeddedPostgresHandle;
  adminUrl: string;
  template: string;
}

/**
 * One PostgreSQL for a test run: the embedded server (or the server of DATABASE_URL), and a template database
 * with every subgraph's migrations applied once. Each test file clones the template into its own database
 * (the test kit reads TIERGRAPH_TEST_ADMIN_URL and TIERGRAPH_TEST_TEMPLATE, set here).
 */
export async function prepareTestPostgres(): Promise<TestPostgres> {
  let server: EmbeddedPostgresHandle | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const parent = mkdtempSync(join(tmpdir(), 'tiergraph-test-pg-'));
    chmodSync(parent, 0o755); // as root, postgres runs as the `postgres` user and must enter it
    server = await startEmbeddedPostgres({
      dataDir: join(parent, 'data'),
      port: await freePort(),
      persistent: false,
      // as root, moved where the postgres user can reach it when the temporary folder is closed to it
      relocate: true,
      onNotice: (line) => process.stdout.write(`[test-pg] ${line}\n`),
    });
    adminUrl = server.urlFor('postgres');
  }
  const template = `tiergraph_template_${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${template}"`);
    await admin.query(`CREATE DATABASE "${template}"`);
  } finally {
    await admin.end();
  }
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  await migrateAll(templateUrl.toString());
  process.env.TIERGRAPH_TEST_ADMIN_URL = adminUrl;
  process.env.TIERGRAPH_TEST_TEMPLATE = template;
  return { server, adminUrl, template };
}

/** Stops the embedded server, or drops the template from the server of DATABASE_URL. */
export async function releaseTestPostgres(state: TestPostgres): Promise<void> {
  if (state.server) {
    await state.server.stop();
    return;
  }
  const admin = new Client({ connectionString: state.adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${state.template}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
