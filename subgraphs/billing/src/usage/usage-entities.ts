import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { SCHEMA } from '../database/entities';

/** One recorded usage event; (merchant, platform, feature, idempotency key) is unique. */
@Entity({ schema: SCHEMA, name: 'usage_events' })
export class UsageEventEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @Column({ name: 'store_id', type: 'uuid' }) storeId!: string;
  @Column({ name: 'feature_code', type: 'text' }) featureCode!: string;
  @Column({ name: 'idempotency_key', type: 'text' }) idempotencyKey!: string;
  @Column({ type: 'integer' }) quantity!: number;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  /** The billing period the event counts in. */
  @Column({ name: 'period_start', type: 'timestamptz' }) periodStart!: Date;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
}

/** A metered feature's total in one billing period, changed in the transaction of every event. */
@Entity({ schema: SCHEMA, name: 'usage_period_totals' })
export class UsagePeriodTotalEntity {
  @PrimaryColumn({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @PrimaryColumn({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @PrimaryColumn({ name: 'feature_code', type: 'text' }) featureCode!: string;
  @PrimaryColumn({ name: 'period_start', type: 'timestamptz' }) periodStart!: Date;
  @Column({ name: 'period_end', type: 'timestamptz' }) periodEnd!: Date;
  @Column({ type: 'bigint' }) used!: string;
  @Column({ type: 'integer' }) events!: number;
  /** The limit in force at the period's last event; null = unlimited. */
  @Column({ type: 'bigint', nullable: true }) allocated!: string | null;
  @Column({ name: 'tier_code', type: 'text', nullable: true }) tierCode!: string | null;
}

/** A metered feature's total on one UTC day of one period (a day can straddle two periods). */
@Entity({ schema: SCHEMA, name: 'usage_daily_totals' })
export class UsageDailyTotalEntity {
  @PrimaryColumn({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @PrimaryColumn({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @PrimaryColumn({ name: 'feature_code', type: 'text' }) featureCode!: string;
  @PrimaryColumn({ name: 'period_start', type: 'timestamptz' }) periodStart!: Date;
  @PrimaryColumn({ type: 'date' }) day!: string;
  @Column({ type: 'bigint' }) quantity!: string;
  @Column({ type: 'integer' }) events!: number;
}

/** The first event that took a period's usage to a threshold (50, 75, 90, 100 % of the allocation). */
@Entity({ schema: SCHEMA, name: 'usage_threshold_crossings' })
export class UsageThresholdCrossingEntity {
  @PrimaryColumn({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @PrimaryColumn({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @PrimaryColumn({ name: 'feature_code', type: 'text' }) featureCode!: string;
  @PrimaryColumn({ name: 'period_start', type: 'timestamptz' }) periodStart!: Date;
  @PrimaryColumn({ type: 'integer' }) threshold!: number;
  @Column({ type: 'bigint' }) used!: string;
  @Column({ type: 'bigint' }) allocated!: string;
  @Column({ name: 'crossed_at', type: 'timestamptz' }) crossedAt!: Date;
}

/** What a closed period used, of what, on which plan; late events within the grace keep it exact. */
@Entity({ schema: SCHEMA, name: 'usage_period_summaries' })
export class UsagePeriodSummaryEntity {
  @PrimaryColumn({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @PrimaryColumn({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @PrimaryColumn({ name: 'feature_code', type: 'text' }) featureCode!: string;
  @PrimaryColumn({ name: 'period_start', type: 'timestamptz' }) periodStart!: Date;
  @Column({ name: 'period_end', type: 'timestamptz' }) periodEnd!: Date;
  @Column({ type: 'bigint' }) used!: string;
  @Column({ type: 'bigint', nullable: true }) allocated!: string | null;
  @Column({ type: 'integer' }) events!: number;
  @Column({ name: 'peak_day', type: 'date', nullable: true }) peakDay!: string | null;
  @Column({ name: 'peak_day_quantity', type: 'bigint' }) peakDayQuantity!: string;
  @Column({ name: 'tier_code', type: 'text', nullable: true }) tierCode!: string | null;
  @Column({ name: 'closed_at', type: 'timestamptz' }) closedAt!: Date;
}

export const usageEntities = [UsageEventEntity, UsagePeriodTotalEntity, UsageDailyTotalEntity, UsageThresholdCrossingEntity, UsagePeriodSummaryEntity];
