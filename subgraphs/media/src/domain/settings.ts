/** What media stores where, and what an upload may be. One value per process, from env.ts (or a test). */
export interface MediaSettings {
  /** Absolute folder of the sharded file tree (`<root>/ab/cd/abcd…_200.webp`) and its `.tmp/`. */
  root: string;
  /** Larger uploads are refused with 413 before anything is kept. */
  maxUploadBytes: number;
  /** Decoded width × height above this is refused (decompression bombs), before any pixel is decoded. */
  maxInputPixels: number;
  /** Base of the file URLs the graph answers (`<publicUrl>/media/files/ab/cd/…`); unset: paths without a host. */
  publicUrl?: string;
  /** Leftovers of an upload or delete (a crash) younger than this are left alone: the request may still be running. */
  orphanGraceMs: number;
  /** How often the sweeper looks for leftovers after the one at start (0: only at start). */
  sweepIntervalMs: number;
}

export const DEFAULT_MEDIA_SETTINGS = {
  maxUploadBytes: 20 * 1024 * 1024,
  maxInputPixels: 50_000_000,
  orphanGraceMs: 10 * 60_000,
  sweepIntervalMs: 10 * 60_000,
} as const;
