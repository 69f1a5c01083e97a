import { PlatformFiguresOnce, type Caller } from '@tiergraph/runtime';
import type { CatalogPlatformFigures, CatalogPlatformFiguresStore } from './platform-figures-store';

/** Catalog's contribution to PlatformMetrics: for admins and services only, counted once per request. */
export type CatalogPlatformFiguresService = PlatformFiguresOnce<CatalogPlatformFigures>;

export function createCatalogPlatformFiguresService(store: CatalogPlatformFiguresStore, caller: Caller): CatalogPlatformFiguresService {
  return new PlatformFiguresOnce(caller, () => store.figures());
}
