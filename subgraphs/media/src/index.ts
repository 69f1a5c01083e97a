import { loadTypeDefs, StoreDirectory, type SubgraphDefinition } from '@tiergraph/runtime';
import type { MediaContext } from './context';
import { mediaFeatures } from './domain/features';
import { MediaService } from './domain/media-service';
import { resolvers } from './resolvers';
import { entities } from './store/entities';
import { MediaStore } from './store/media-store';
import { migrations } from './store/migrations';

/** Composition root of the media subgraph. */
export const mediaSubgraph: SubgraphDefinition<MediaContext> = {
  name: 'media',
  typeDefs: loadTypeDefs(__dirname),
  resolvers,
  entities,
  migrations,
  // media owns max_storage_mb but does not enforce it yet (uploads land later), so it needs no entitlements
  features: mediaFeatures,
  createContext: ({ dataSource, urls, serviceToken }) => {
    const store = new MediaStore(dataSource);
    const stores = new StoreDirectory(urls.tenancy, serviceToken);
    return (base) => ({ ...base, media: new MediaService(store.createLoaders(), base.caller, stores) });
  },
};

export { entities, mediaFeatures, migrations };
