import { requireAdminOrService, type Caller } from './auth';
import { NotFoundError } from './errors';

/**
 * The platform-wide figures entity (`PlatformMetrics @key(fields: "id")`): every owner contributes its own counts
 * to it (tenancy stores and team, catalog products, orders, media files, billing subscriptions and limits), and
 * monitoring asks the graph for them. There is one: the whole platform, id `platform`.
 */
export const PLATFORM_METRICS_ID = 'platform';

export interface PlatformMetricsReference {
  id: string;
}

/**
 * The same check in every contributor, before any count: platform-wide figures are for admins and services only
 * (a tenant learns nothing, not even whether the id exists), and only the one id is known.
 */
export function platformMetricsReference(caller: Caller, id: string): PlatformMetricsReference {
  requireAdminOrService(caller, 'platform-wide figures are for admins and services only');
  if (id !== PLATFORM_METRICS_ID) throw new NotFoundError('PlatformMetrics', id);
  return { id };
}

/**
 * One request's figures of one contributor: the caller checked on every read, counted once however many of the
 * contributor's fields the plan asks for (one SQL statement per contributor per request).
 */
export class PlatformFiguresOnce<T> {
  private counted?: Promise<T>;

  constructor(
    private readonly caller: Caller,
    private readonly count: () => Promise<T>,
  ) {}

  reference(id: string): PlatformMetricsReference {
    return platformMetricsReference(this.caller, id);
  }

  get(reference: PlatformMetricsReference): Promise<T> {
    platformMetricsReference(this.caller, reference.id);
    return (this.counted ??= this.count());
  }
}
