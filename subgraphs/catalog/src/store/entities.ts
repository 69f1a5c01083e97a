import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const SCHEMA = 'catalog';

@Entity({ schema: SCHEMA, name: 'products' })
export class ProductEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** Copied from the store at creation, so usage counts per merchant and platform need no call to tenancy. */
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'store_id', type: 'uuid' }) storeId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @Column({ type: 'text' }) sku!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'price_cents', type: 'integer' }) priceCents!: number;
  @Column({ type: 'char', length: 3, default: 'EUR' }) currency!: string;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  /** Soft delete: set once; a deleted product is not counted, listed or orderable, but still resolves by reference. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}

export const entities = [ProductEntity];
