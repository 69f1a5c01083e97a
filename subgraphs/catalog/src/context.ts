import type { RequestContext } from '@tiergraph/runtime';
import type { CatalogService } from './domain/catalog-service';

export interface CatalogContext extends RequestContext {
  catalog: CatalogService;
}
