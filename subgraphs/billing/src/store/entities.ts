import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const SCHEMA = 'billing';

/** A plan merchants subscribe to; the graph knows it by its code. */
@Entity({ schema: SCHEMA, name: 'subscription_tiers' })
export class SubscriptionTierEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) code!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', nullable: true }) description!: string | null;
  @Column({ name: 'price_monthly_cents', type: 'integer' }) priceMonthlyCents!: number;
  @Column({ name: 'price_annual_cents', type: 'integer', nullable: true }) priceAnnualCents!: number | null;
  @Column({ type: 'char', length: 3, default: 'EUR' }) currency!: string;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive!: boolean;
  @Column({ name: 'is_public', type: 'boolean', default: true }) isPublic!: boolean;
  @Column({ name: 'display_order', type: 'integer', default: 0 }) displayOrder!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

export const entities = [SubscriptionTierEntity];
