import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVELOPMENT_CORS, loadTypeDefs, type CorsSettings, type SubgraphDefinition, type SubgraphDependencies } from '@tiergraph/runtime';
import { createMediaPlatformFiguresService } from './platform-figures/platform-figures-service';
import type { MediaContext } from './context';
import { mediaFeatures } from './features';
import { MediaService } from './domain/media-service';
import { DEFAULT_MEDIA_SETTINGS, type MediaSettings } from './domain/settings';
import { FileTree } from './files/file-tree';
import { startSweeper } from './files/sweeper';
import { mountMediaRoutes } from './http';
import { resolvers } from './resolvers';
import { entities } from './store/entities';
import { MediaStore } from './store/media-store';
import { migrations } from './store/migrations';

export interface MediaOptions {
  /** Which browser origins may call the /media routes (CORS_ORIGINS, CORS_CREDENTIALS). */
  cors: CorsSettings;
  /** Where files go and what an upload may be (MEDIA_ROOT, MEDIA_MAX_UPLOAD_MB, …); default: developmentStorage(). */
  storage?: MediaSettings;
}

/** The defaults, with files in a folder of the system's temporary directory (main.ts reads MEDIA_ROOT or DATA_DIR). */
export function developmentStorage(): MediaSettings {
  return { root: join(tmpdir(), `tiergraph-media-${process.pid}`), ...DEFAULT_MEDIA_SETTINGS };
}

/** What one process shares between its requests: the SQL, the file tree, tenancy's store directory. */
interface MediaParts {
  store: MediaStore;
  files: FileTree;
  stores: SubgraphDependencies['stores'];
}

/** Composition root of the media subgraph. */
export function createMediaSubgraph({ cors, storage = developmentStorage() }: MediaOptions): SubgraphDefinition<MediaContext> {
  // createContext and configureApp get the same dependencies: one set of parts per started process
  const partsOf = new WeakMap<SubgraphDependencies, MediaParts>();
  const parts = (deps: SubgraphDependencies): MediaParts => {
    let found = partsOf.get(deps);
    if (!found) {
      found = { store: new MediaStore(deps.dataSource), files: new FileTree(storage.root), stores: deps.stores };
      partsOf.set(deps, found);
    }
    return found;
  };
  const serviceOf = (deps: SubgraphDependencies, base: Pick<MediaContext, 'caller' | 'logger'>) => {
    const { store, files, stores } = parts(deps);
    return new MediaService({
      store,
      loaders: store.createLoaders(),
      stores,
      entitlements: deps.entitlements,
      files,
      settings: storage,
      logger: base.logger,
    }, base.caller);
  };
  return {
    name: 'media',
    typeDefs: loadTypeDefs(__dirname),
    resolvers,
    entities,
    migrations,
    features: mediaFeatures,
    // uploads are checked against max_storage_mb
    usesEntitlements: true,
    configureApp: (app, deps) => {
      const { store, files } = parts(deps);
      // the tree's folder exists before the first upload, and the sweep removes what a crash left
      const ready = files.ensureRoot();
      let sweeper: { stop: () => Promise<void> } | undefined;
      void ready.then(
        () => {
          sweeper = startSweeper(store, files, { graceMs: storage.orphanGraceMs, intervalMs: storage.sweepIntervalMs, logger: deps.logger });
        },
        (error) => deps.logger.error({ err: error, root: files.root }, 'the media root cannot be created; uploads will fail'),
      );
      // runs before the database closes; a stop that comes before the first sweep waits for it
      deps.onStop(async () => {
        await ready.catch(() => undefined);
        await sweeper?.stop();
      });
      mountMediaRoutes(app, {
        ...deps,
        cors,
        files,
        maxUploadBytes: storage.maxUploadBytes,
        serviceFor: (caller, logger) => serviceOf(deps, { caller, logger }),
      });
    },
    createContext: (deps) => (base) => ({
      ...base,
      media: serviceOf(deps, base),
      platformFigures: createMediaPlatformFiguresService(parts(deps).store, base.caller),
    }),
  };
}

/** Media as development configures it: what migrations, composition and tests use (files: developmentStorage()). */
export const mediaSubgraph = createMediaSubgraph({ cors: DEVELOPMENT_CORS });

export { entities, mediaFeatures, migrations };
export { STORED_BYTES } from './store/counters';
export type { MediaSettings };
