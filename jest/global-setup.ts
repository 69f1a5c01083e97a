import { prepareTestPostgres, type TestPostgres } from './test-postgres';

declare global {
  // eslint-disable-next-line no-var
  var __tiergraphTestPostgres: TestPostgres | undefined;
}

/**
 * One PostgreSQL per jest run (see prepareTestPostgres). A runner that starts jest many times over one prepared
 * server (the mutation run) sets TIERGRAPH_TEST_SHARED_POSTGRES=1 with the test kit's variables: then it is reused.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TIERGRAPH_TEST_SHARED_POSTGRES === '1' && process.env.TIERGRAPH_TEST_ADMIN_URL && process.env.TIERGRAPH_TEST_TEMPLATE) return;
  globalThis.__tiergraphTestPostgres = await prepareTestPostgres();
}
