import { PlatformFiguresOnce, type Caller } from '@tiergraph/runtime';
import type { TenancyPlatformFigures, TenancyPlatformFiguresStore } from './platform-figures-store';

/** Tenancy's contribution to PlatformMetrics: for admins and services only, counted once per request. */
export type TenancyPlatformFiguresService = PlatformFiguresOnce<TenancyPlatformFigures>;

export function createTenancyPlatformFiguresService(store: TenancyPlatformFiguresStore, caller: Caller): TenancyPlatformFiguresService {
  return new PlatformFiguresOnce(caller, () => store.figures());
}
