import type { RequestContext } from '@tiergraph/runtime';
import type { CatalogService } from './domain/catalog-service';
import type { CatalogPlatformFiguresService } from './platform-figures/platform-figures-service';

export interface CatalogContext extends RequestContext {
  catalog: CatalogService;
  platformFigures: CatalogPlatformFiguresService;
}
