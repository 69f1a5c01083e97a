import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const SCHEMA = 'monitoring';

export interface TierCountRow {
  tierCode: string;
  count: number;
}

/** One day's platform-wide totals. */
@Entity({ schema: SCHEMA, name: 'capacity_snapshots' })
export class CapacitySnapshotEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** A `date`: TypeORM hydrates it as 'YYYY-MM-DD'. */
  @Column({ name: 'snapshot_date', type: 'date' }) snapshotDate!: string;
  @Column({ name: 'total_stores', type: 'integer', default: 0 }) totalStores!: number;
  @Column({ name: 'active_stores', type: 'integer', default: 0 }) activeStores!: number;
  @Column({ name: 'trial_stores', type: 'integer', default: 0 }) trialStores!: number;
  @Column({ name: 'total_subscriptions', type: 'integer', default: 0 }) totalSubscriptions!: number;
  @Column({ name: 'active_subscriptions', type: 'integer', default: 0 }) activeSubscriptions!: number;
  @Column({ name: 'total_products', type: 'integer', default: 0 }) totalProducts!: number;
  @Column({ name: 'total_orders_month', type: 'integer', default: 0 }) totalOrdersMonth!: number;
  @Column({ name: 'total_team_members', type: 'integer', default: 0 }) totalTeamMembers!: number;
  @Column({ name: 'total_media_files', type: 'integer', default: 0 }) totalMediaFiles!: number;
  /** numeric: pg returns it as a string, exact. */
  @Column({ name: 'storage_used_gb', type: 'numeric', precision: 12, scale: 3, default: 0 }) storageUsedGb!: string;
  @Column({ name: 'db_size_mb', type: 'numeric', precision: 12, scale: 3, default: 0 }) dbSizeMb!: string;
  @Column({ name: 'theoretical_products_limit', type: 'integer', default: 0 }) theoreticalProductsLimit!: number;
  @Column({ name: 'theoretical_orders_limit', type: 'integer', default: 0 }) theoreticalOrdersLimit!: number;
  @Column({ name: 'theoretical_team_limit', type: 'integer', default: 0 }) theoreticalTeamLimit!: number;
  @Column({ name: 'tier_distribution', type: 'jsonb', default: () => `'[]'::jsonb` }) tierDistribution!: TierCountRow[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export const entities = [CapacitySnapshotEntity];
