import { createSubgraphDataSource, runMigrations, type Logger } from '@tiergraph/runtime';
import { subgraphs } from './subgraphs';

/** Applies every subgraph's migrations to one database, each in its own schema. */
export async function migrateAll(databaseUrl: string, logger?: Logger): Promise<void> {
  for (const definition of Object.values(subgraphs)) {
    const dataSource = createSubgraphDataSource({
      url: databaseUrl,
      schema: definition.name,
      entities: definition.entities,
      migrations: definition.migrations,
      poolSize: 2,
    });
    await dataSource.initialize();
    try {
      await runMigrations(dataSource, logger);
    } finally {
      await dataSource.destroy();
    }
  }
}
