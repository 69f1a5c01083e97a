import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { SubscriptionStatus } from '@tiergraph/runtime';

export const SCHEMA = 'billing';

export type BillingCycle = 'MONTHLY' | 'ANNUAL';
export type SubscriptionChange = 'CREATED' | 'UPGRADE' | 'DOWNGRADE' | 'TIER_CHANGE' | 'STATUS_CHANGE' | 'CYCLE_CHANGE' | 'TRIAL_STARTED';

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
  @Column({ name: 'stripe_price_monthly_id', type: 'text', nullable: true }) stripePriceMonthlyId!: string | null;
  @Column({ name: 'stripe_price_annual_id', type: 'text', nullable: true }) stripePriceAnnualId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** One feature of a tier: a limit (null = unlimited) for quantitative features, a toggle for binary ones. */
@Entity({ schema: SCHEMA, name: 'tier_feature_limits' })
export class TierFeatureLimitEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'tier_id', type: 'uuid' }) tierId!: string;
  @Column({ name: 'feature_code', type: 'text' }) featureCode!: string;
  @Column({ name: 'limit_value', type: 'integer', nullable: true }) limitValue!: number | null;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
}

/** A merchant's subscription on one platform (one per merchant and platform). */
@Entity({ schema: SCHEMA, name: 'merchant_subscriptions' })
export class MerchantSubscriptionEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  /** A copy of the merchant's name from tenancy, taken when the subscription is written, for the admin search. */
  @Column({ name: 'merchant_name', type: 'text' }) merchantName!: string;
  @Column({ name: 'tier_id', type: 'uuid' }) tierId!: string;
  @Column({ type: 'text' }) status!: SubscriptionStatus;
  @Column({ name: 'billing_cycle', type: 'text' }) billingCycle!: BillingCycle;
  @Column({ name: 'current_period_start', type: 'timestamptz' }) currentPeriodStart!: Date;
  @Column({ name: 'current_period_end', type: 'timestamptz' }) currentPeriodEnd!: Date;
  @Column({ name: 'trial_ends_at', type: 'timestamptz', nullable: true }) trialEndsAt!: Date | null;
  @Column({ name: 'cancel_at_period_end', type: 'boolean', default: false }) cancelAtPeriodEnd!: boolean;
  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true }) cancelledAt!: Date | null;
  @Column({ name: 'stripe_customer_id', type: 'text', nullable: true }) stripeCustomerId!: string | null;
  @Column({ name: 'stripe_subscription_id', type: 'text', nullable: true }) stripeSubscriptionId!: string | null;
  /** When the newest Stripe state was applied (an event's time, or our own call to Stripe): older events change nothing. */
  @Column({ name: 'stripe_state_at', type: 'timestamptz', nullable: true }) stripeStateAt!: Date | null;
  /** When the newest invoice event was applied, and what it said of the payment (see the payment-state migrations). */
  @Column({ name: 'payment_state_at', type: 'timestamptz', nullable: true }) paymentStateAt!: Date | null;
  @Column({ name: 'payment_verdict', type: 'text', nullable: true }) paymentVerdict!: 'PAID' | 'FAILED' | null;
  /** Failed attempts of the invoice that made the subscription past due (0 otherwise). */
  @Column({ name: 'payment_attempts', type: 'integer', default: 0 }) paymentAttempts!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** A per-merchant exception to the tier: it decides the feature while it exists. */
@Entity({ schema: SCHEMA, name: 'merchant_feature_overrides' })
export class MerchantFeatureOverrideEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @Column({ name: 'feature_code', type: 'text' }) featureCode!: string;
  @Column({ name: 'limit_value', type: 'integer', nullable: true }) limitValue!: number | null;
  @Column({ name: 'is_enabled', type: 'boolean' }) isEnabled!: boolean;
}

@Entity({ schema: SCHEMA, name: 'subscription_history' })
export class SubscriptionHistoryEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'subscription_id', type: 'uuid' }) subscriptionId!: string;
  @Column({ type: 'text' }) change!: SubscriptionChange;
  @Column({ name: 'from_tier_code', type: 'text', nullable: true }) fromTierCode!: string | null;
  @Column({ name: 'to_tier_code', type: 'text', nullable: true }) toTierCode!: string | null;
  @Column({ name: 'from_status', type: 'text', nullable: true }) fromStatus!: SubscriptionStatus | null;
  @Column({ name: 'to_status', type: 'text', nullable: true }) toStatus!: SubscriptionStatus | null;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ type: 'text' }) actor!: string;
  @Column({ name: 'changed_at', type: 'timestamptz' }) changedAt!: Date;
  /** Recording order: entries of one change share their time. */
  @Column({ type: 'bigint', insert: false, select: false }) seq!: string;
}

/** A feature as its owner declared it (registered at the owner's start). */
@Entity({ schema: SCHEMA, name: 'feature_declarations' })
export class FeatureDeclarationEntity {
  @Column({ type: 'text', primary: true }) code!: string;
  @Column({ type: 'text' }) owner!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) description!: string;
  @Column({ type: 'text' }) category!: string;
  @Column({ name: 'feature_type', type: 'text' }) featureType!: 'BINARY' | 'QUANTITATIVE';
  @Column({ type: 'text' }) scope!: 'STORE' | 'MERCHANT';
  @Column({ type: 'text', nullable: true }) unit!: string | null;
  @Column({ name: 'display_order', type: 'integer' }) displayOrder!: number;
  /** COMPUTED: the owner counts it; METERED: billing counts the usage events recorded for it. */
  @Column({ type: 'text', default: 'COMPUTED' }) measurement!: 'COMPUTED' | 'METERED';
}

@Entity({ schema: SCHEMA, name: 'add_on_products' })
export class AddOnProductEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) code!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) category!: string;
  @Column({ name: 'price_cents', type: 'integer' }) priceCents!: number;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ name: 'billing_period', type: 'text' }) billingPeriod!: BillingCycle;
  @Column({ name: 'stripe_price_id', type: 'text', nullable: true }) stripePriceId!: string | null;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive!: boolean;
  @Column({ name: 'display_order', type: 'integer', default: 0 }) displayOrder!: number;
}

@Entity({ schema: SCHEMA, name: 'store_add_ons' })
export class StoreAddOnEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'store_id', type: 'uuid' }) storeId!: string;
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'add_on_code', type: 'text' }) addOnCode!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ type: 'integer', default: 1 }) quantity!: number;
  @Column({ name: 'domain_name', type: 'text', nullable: true }) domainName!: string | null;
  @Column({ name: 'stripe_subscription_item_id', type: 'text', nullable: true }) stripeSubscriptionItemId!: string | null;
  /** The Stripe subscription that bills the add-on (from the completed checkout). */
  @Column({ name: 'stripe_subscription_id', type: 'text', nullable: true }) stripeSubscriptionId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** An invoice or payment, as Stripe reports it (written by the webhook handlers). */
@Entity({ schema: SCHEMA, name: 'billing_history' })
export class BillingHistoryEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @Column({ name: 'stripe_invoice_id', type: 'text', nullable: true }) stripeInvoiceId!: string | null;
  @Column({ type: 'text', nullable: true }) number!: string | null;
  @Column({ type: 'text' }) status!: string;
  @Column({ name: 'amount_due_cents', type: 'integer' }) amountDueCents!: number;
  @Column({ name: 'amount_paid_cents', type: 'integer' }) amountPaidCents!: number;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ name: 'period_start', type: 'timestamptz', nullable: true }) periodStart!: Date | null;
  @Column({ name: 'period_end', type: 'timestamptz', nullable: true }) periodEnd!: Date | null;
  @Column({ name: 'invoice_pdf_url', type: 'text', nullable: true }) invoicePdfUrl!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export const entities = [
  SubscriptionTierEntity,
  TierFeatureLimitEntity,
  MerchantSubscriptionEntity,
  MerchantFeatureOverrideEntity,
  SubscriptionHistoryEntity,
  FeatureDeclarationEntity,
  AddOnProductEntity,
  StoreAddOnEntity,
  BillingHistoryEntity,
];
