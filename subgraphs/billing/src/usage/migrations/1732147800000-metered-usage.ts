import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Metered usage: declarations say whether billing meters a feature (METERED) or its owner counts it (COMPUTED);
 * recorded events with their idempotency key; per-period and per-day totals written in the event's transaction;
 * thresholds crossed once per period; a summary row per closed period.
 */
export class MeteredUsage1732147800000 implements MigrationInterface {
  name = 'MeteredUsage1732147800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE billing.feature_declarations ADD COLUMN measurement text NOT NULL DEFAULT 'COMPUTED'
         CONSTRAINT feature_declarations_measurement_check CHECK (measurement IN ('COMPUTED', 'METERED'))`,
    );
    await q.query(`
      CREATE TABLE billing.usage_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        store_id uuid NOT NULL,
        feature_code text NOT NULL,
        idempotency_key text NOT NULL,
        quantity integer NOT NULL CONSTRAINT usage_events_quantity_check CHECK (quantity > 0),
        occurred_at timestamptz NOT NULL,
        period_start timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT usage_events_key UNIQUE (merchant_id, platform_id, feature_code, idempotency_key)
      )`);
    await q.query(`
      CREATE TABLE billing.usage_period_totals (
        merchant_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        feature_code text NOT NULL,
        period_start timestamptz NOT NULL,
        period_end timestamptz NOT NULL,
        used bigint NOT NULL CONSTRAINT usage_period_totals_used_check CHECK (used >= 0),
        events integer NOT NULL,
        allocated bigint,
        tier_code text,
        PRIMARY KEY (merchant_id, platform_id, feature_code, period_start)
      )`);
    await q.query(`
      CREATE TABLE billing.usage_daily_totals (
        merchant_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        feature_code text NOT NULL,
        period_start timestamptz NOT NULL,
        day date NOT NULL,
        quantity bigint NOT NULL,
        events integer NOT NULL,
        PRIMARY KEY (merchant_id, platform_id, feature_code, period_start, day)
      )`);
    await q.query(`CREATE INDEX usage_daily_totals_day ON billing.usage_daily_totals (merchant_id, platform_id, feature_code, day)`);
    await q.query(`
      CREATE TABLE billing.usage_threshold_crossings (
        merchant_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        feature_code text NOT NULL,
        period_start timestamptz NOT NULL,
        threshold integer NOT NULL,
        used bigint NOT NULL,
        allocated bigint NOT NULL,
        crossed_at timestamptz NOT NULL,
        PRIMARY KEY (merchant_id, platform_id, feature_code, period_start, threshold)
      )`);
    await q.query(`
      CREATE TABLE billing.usage_period_summaries (
        merchant_id uuid NOT NULL,
        platform_id uuid NOT NULL,
        feature_code text NOT NULL,
        period_start timestamptz NOT NULL,
        period_end timestamptz NOT NULL,
        used bigint NOT NULL,
        allocated bigint,
        events integer NOT NULL,
        peak_day date,
        peak_day_quantity bigint NOT NULL,
        tier_code text,
        closed_at timestamptz NOT NULL,
        PRIMARY KEY (merchant_id, platform_id, feature_code, period_start)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['usage_period_summaries', 'usage_threshold_crossings', 'usage_daily_totals', 'usage_period_totals', 'usage_events']) {
      await q.query(`DROP TABLE billing.${table}`);
    }
    await q.query(`ALTER TABLE billing.feature_declarations DROP COLUMN measurement`);
  }
}
