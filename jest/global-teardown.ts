import { releaseTestPostgres } from './test-postgres';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__tiergraphTestPostgres;
  globalThis.__tiergraphTestPostgres = undefined;
  if (state) await releaseTestPostgres(state);
}
