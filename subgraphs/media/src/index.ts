import { DEVELOPMENT_CORS, loadTypeDefs, StoreDirectory, type CorsSettings, type SubgraphDefinition } from '@tiergraph/runtime';
import type { MediaContext } from './context';
import { mediaFeatures } from './domain/features';
import { MediaService } from './domain/media-service';
import { mountMediaRoutes } from './http';
import { resolvers } from './resolvers';
import { entities } from './store/entities';
import { MediaStore } from './store/media-store';
import { migrations } from './store/migrations';

export interface MediaOptions {
  /** Which browser origins may call the /media routes (CORS_ORIGINS, CORS_CREDENTIALS). */
  cors: CorsSettings;
}

/** Composition root of the media subgraph. */
export function createMediaSubgraph(options: MediaOptions): SubgraphDefinition<MediaContext> {
  return {
    name: 'media',
    typeDefs: loadTypeDefs(__dirname),
    resolvers,
    entities,
    migrations,
    // media owns max_storage_mb but does not enforce it yet (uploads land later), so it needs no entitlements
    features: mediaFeatures,
    configureApp: (app, deps) => mountMediaRoutes(app, { ...deps, cors: options.cors }),
    createContext: ({ dataSource, urls, serviceToken }) => {
      const store = new MediaStore(dataSource);
      const stores = new StoreDirectory(urls.tenancy, serviceToken);
      return (base) => ({ ...base, media: new MediaService(store.createLoaders(), base.caller, stores) });
    },
  };
}

/** Media as development configures it: what migrations, composition and tests use. */
export const mediaSubgraph = createMediaSubgraph({ cors: DEVELOPMENT_CORS });

export { entities, mediaFeatures, migrations };
