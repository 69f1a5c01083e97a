import type { UsageCounterSpec } from '@tiergraph/runtime';

/**
 * max_storage_mb without scanning: the stored bytes (all variants) of the merchant's files per (merchant, platform)
 * — the feature's scope is MERCHANT, so one row per pair. Kept by triggers on media.media_files (upload, delete) in
 * the writing transaction; usage rounds the bytes up to MiB when read.
 */
export const STORED_BYTES: UsageCounterSpec = {
  table: 'media.media_files',
  counter: 'media.stored_bytes_counts',
  keys: [
    { column: 'merchant_id', type: 'uuid' },
    { column: 'platform_id', type: 'uuid' },
  ],
  counted: 'true',
  amount: 'stored_bytes',
};

