import type { DataSource } from 'typeorm';
import { TEAM_MEMBER_COUNTS } from '../store/counters';

/** Tenancy's platform-wide counts. */
export interface TenancyPlatformFigures {
  storeCount: number;
  activeStoreCount: number;
  /** Active MEMBER users: what max_team_members counts (owners never count), so utilisation compares like with like. */
  teamMemberCount: number;
}

/** Tenancy's platform-wide counts in one statement. */
export class TenancyPlatformFiguresStore {
  constructor(private readonly db: DataSource) {}

  async figures(): Promise<TenancyPlatformFigures> {
    const [row]: Array<TenancyPlatformFigures> = await this.db.query(
      `SELECT (SELECT count(*)::int FROM tenancy.stores)                          AS "storeCount",
              (SELECT count(*)::int FROM tenancy.stores WHERE is_active)          AS "activeStoreCount",
              (SELECT coalesce(sum(n), 0)::int FROM ${TEAM_MEMBER_COUNTS.counter}) AS "teamMemberCount"`,
    );
    return row;
  }
}
