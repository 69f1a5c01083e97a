import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const SCHEMA = 'tenancy';

@Entity({ schema: SCHEMA, name: 'platforms' })
export class PlatformEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) code!: string;
  @Column({ type: 'text' }) name!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity({ schema: SCHEMA, name: 'merchants' })
export class MerchantEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) email!: string;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity({ schema: SCHEMA, name: 'stores' })
export class StoreEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @Column({ type: 'text' }) code!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export type StoreUserRole = 'OWNER' | 'MEMBER';

@Entity({ schema: SCHEMA, name: 'store_users' })
export class StoreUserEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'store_id', type: 'uuid' }) storeId!: string;
  /** Copied from the store when the user is added, so counts per merchant need no join. */
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @Column({ type: 'text' }) email!: string;
  @Column({ type: 'text' }) role!: StoreUserRole;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'deactivated_at', type: 'timestamptz', nullable: true }) deactivatedAt!: Date | null;
}

export const entities = [PlatformEntity, MerchantEntity, StoreEntity, StoreUserEntity];
