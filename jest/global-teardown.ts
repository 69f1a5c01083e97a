import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__tiergraphTestPostgres;
  if (!state) return;
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
