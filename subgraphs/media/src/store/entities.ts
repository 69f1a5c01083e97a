import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export const SCHEMA = 'media';

@Entity({ schema: SCHEMA, name: 'media_files' })
export class MediaFileEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** Copied from the store at creation, so usage counts per merchant and platform need no call to tenancy. */
  @Column({ name: 'merchant_id', type: 'uuid' }) merchantId!: string;
  @Column({ name: 'store_id', type: 'uuid' }) storeId!: string;
  @Column({ name: 'platform_id', type: 'uuid' }) platformId!: string;
  /** The client's name, for display only: it never reaches the file system. */
  @Column({ type: 'text' }) filename!: string;
  /** Of the original, as decoded (never the declared type). */
  @Column({ name: 'mime_type', type: 'text' }) mimeType!: string;
  /** The original's size. bigint: pg returns it as a string, exact beyond 2^53. */
  @Column({ name: 'size_bytes', type: 'bigint' }) sizeBytes!: string;
  @Column({ type: 'integer', nullable: true }) width!: number | null;
  @Column({ type: 'integer', nullable: true }) height!: number | null;
  /** The random hex name of the file's variants in the sharded tree (`ab/cd/<key>_200.webp`). */
  @Column({ name: 'storage_key', type: 'text' }) storageKey!: string;
  /** Every variant's bytes on disk: what max_storage_mb and the storage stats count. */
  @Column({ name: 'stored_bytes', type: 'bigint' }) storedBytes!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export type VariantName = 'original' | 'medium' | 'thumb';

@Entity({ schema: SCHEMA, name: 'media_variants' })
export class MediaVariantEntity {
  @PrimaryColumn({ name: 'media_file_id', type: 'uuid' }) mediaFileId!: string;
  @PrimaryColumn({ type: 'text' }) name!: VariantName;
  @Column({ name: 'mime_type', type: 'text' }) mimeType!: string;
  @Column({ type: 'integer' }) width!: number;
  @Column({ type: 'integer' }) height!: number;
  @Column({ name: 'size_bytes', type: 'bigint' }) sizeBytes!: string;
  /** Relative to the media root, e.g. `ab/cd/abcd…_200.webp`. */
  @Column({ type: 'text' }) path!: string;
}

export const entities = [MediaFileEntity, MediaVariantEntity];
