import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const SCHEMA = 'media';

@Entity({ schema: SCHEMA, name: 'media_files' })
export class MediaFileEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** Copied from the store at creation, so usage counts per merchant and platform need no call to tenancy. */
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'store_id', type: 'uuid' }) storeId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  @Column({ type: 'text' }) filename!: string;
  @Column({ name: 'mime_type', type: 'text' }) mimeType!: string;
  /** bigint: pg returns it as a string, exact beyond 2^53. */
  @Column({ name: 'size_bytes', type: 'bigint' }) sizeBytes!: string;
  @Column({ type: 'integer', nullable: true }) width!: number | null;
  @Column({ type: 'integer', nullable: true }) height!: number | null;
  @Column({ name: 'storage_key', type: 'text' }) storageKey!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export const entities = [MediaFileEntity];
