import DataLoader from 'dataloader';
import { findByKeys } from '@tiergraph/runtime';
import type { DataSource } from 'typeorm';
import { SubscriptionTierEntity } from './entities';

/** Owns billing's SQL. Every read that a resolver can fan out over is a batched `= ANY(:codes)`. */
export class BillingStore {
  constructor(private readonly db: DataSource) {}

  /** Tiers by code, in the order asked, null where unknown: one statement however many codes. */
  tiersByCodes(codes: readonly string[]): Promise<(SubscriptionTierEntity | null)[]> {
    return findByKeys(this.db, SubscriptionTierEntity, 'code', codes);
  }

  /** Per-request batching: one statement per kind of read, however many entities a plan asks for. */
  createLoaders() {
    return {
      tierByCode: new DataLoader((codes: readonly string[]) => this.tiersByCodes(codes)),
    };
  }
}

export type BillingLoaders = ReturnType<BillingStore['createLoaders']>;
