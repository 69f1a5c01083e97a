import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const SCHEMA = 'orders';

export type OrderStatus = 'PENDING' | 'PAID' | 'FULFILLED' | 'CANCELLED';

@Entity({ schema: SCHEMA, name: 'orders' })
export class OrderEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** Copied from the store at creation, so usage counts per merchant and platform need no call to tenancy. */
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'store_id', type: 'uuid' }) storeId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @Column({ type: 'text', default: 'PENDING' }) status!: OrderStatus;
  @Column({ name: 'total_cents', type: 'integer' }) totalCents!: number;
  @Column({ type: 'char', length: 3, default: 'EUR' }) currency!: string;
  @Column({ name: 'customer_email', type: 'text', nullable: true }) customerEmail!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity({ schema: SCHEMA, name: 'order_items' })
export class OrderItemEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'order_id', type: 'uuid' }) orderId!: string;
  /** A catalog product; catalog owns it, so no foreign key. */
  @Column({ name: 'product_id', type: 'uuid' }) productId!: string;
  @Column({ type: 'integer' }) quantity!: number;
  /** The product's price when the order was placed: later price changes in catalog do not touch it. */
  @Column({ name: 'unit_price_cents', type: 'integer' }) unitPriceCents!: number;
  /** 0-based place of the item in the order as it was placed. */
  @Column({ type: 'integer', default: 0 }) position!: number;
}

export const entities = [OrderEntity, OrderItemEntity];
