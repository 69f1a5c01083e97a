import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenancyInit1732147200000 implements MigrationInterface {
  name = 'TenancyInit1732147200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS tenancy`);
    await q.query(`
      CREATE TABLE tenancy.platforms (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL CONSTRAINT platforms_code_format CHECK (code ~ '^[a-z0-9-]{2,64}$'),
        name text NOT NULL CONSTRAINT platforms_name_not_blank CHECK (btrim(name) <> ''),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT platforms_code_key UNIQUE (code)
      )`);
    await q.query(`
      CREATE TABLE tenancy.merchants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CONSTRAINT merchants_name_not_blank CHECK (btrim(name) <> ''),
        email text NOT NULL,
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX merchants_email_key ON tenancy.merchants (lower(email))`);
    await q.query(`
      CREATE TABLE tenancy.stores (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id uuid NOT NULL REFERENCES tenancy.merchants (id),
        platform_id uuid NOT NULL REFERENCES tenancy.platforms (id),
        code text NOT NULL CONSTRAINT stores_code_format CHECK (code ~ '^[a-z0-9-]{2,64}$'),
        name text NOT NULL CONSTRAINT stores_name_not_blank CHECK (btrim(name) <> ''),
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT stores_platform_code_key UNIQUE (platform_id, code)
      )`);
    await q.query(`CREATE INDEX stores_merchant_idx ON tenancy.stores (merchant_id, platform_id)`);
    await q.query(`
      CREATE TABLE tenancy.store_users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        store_id uuid NOT NULL REFERENCES tenancy.stores (id),
        merchant_id uuid NOT NULL REFERENCES tenancy.merchants (id),
        platform_id uuid NOT NULL REFERENCES tenancy.platforms (id),
        email text NOT NULL,
        role text NOT NULL CONSTRAINT store_users_role_check CHECK (role IN ('OWNER', 'MEMBER')),
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        deactivated_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX store_users_store_email_key ON tenancy.store_users (store_id, lower(email))`);
    await q.query(`CREATE INDEX store_users_merchant_idx ON tenancy.store_users (merchant_id, platform_id, role) WHERE is_active`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tenancy.store_users`);
    await q.query(`DROP TABLE tenancy.stores`);
    await q.query(`DROP TABLE tenancy.merchants`);
    await q.query(`DROP TABLE tenancy.platforms`);
  }
}
