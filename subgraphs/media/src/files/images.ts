import { open } from 'node:fs/promises';
import sharp from 'sharp';
import { BadUserInputError } from '@tiergraph/runtime';
import type { VariantName } from '../store/entities';
import type { OriginalExtension } from './file-tree';

// No operation cache: every upload is a new file, and a cache would keep decoded uploads in memory.
sharp.cache(false);

/** The formats an original may be, by what its bytes are (never its name or declared type). */
export interface ImageFormat {
  mimeType: string;
  extension: OriginalExtension;
}

const FORMATS: Record<string, ImageFormat> = {
  jpeg: { mimeType: 'image/jpeg', extension: 'jpg' },
  png: { mimeType: 'image/png', extension: 'png' },
  webp: { mimeType: 'image/webp', extension: 'webp' },
  gif: { mimeType: 'image/gif', extension: 'gif' },
  avif: { mimeType: 'image/avif', extension: 'avif' },
};

export const ACCEPTED_FORMATS = 'JPEG, PNG, WebP, GIF or AVIF';

/** Which accepted format the first bytes announce, or null: only those formats ever reach a decoder. */
export function sniffFormat(head: Buffer): keyof typeof FORMATS | null {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (head.length >= 6 && /^GIF8[79]a$/.test(head.subarray(0, 6).toString('latin1'))) return 'gif';
  if (head.length >= 12 && head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  if (head.length >= 12 && head.subarray(4, 8).toString('latin1') === 'ftyp' && /^avi[fs]$/.test(head.subarray(8, 12).toString('latin1'))) return 'avif';
  return null;
}

/** The largest box each WebP variant fits in (aspect ratio kept, never enlarged). */
export const VARIANT_BOXES: Record<Exclude<VariantName, 'original'>, number> = { thumb: 200, medium: 800 };

export interface EncodedVariant {
  name: Exclude<VariantName, 'original'>;
  data: Buffer;
  width: number;
  height: number;
}

export interface ProcessedImage {
  format: ImageFormat;
  /** As displayed (EXIF orientation applied). */
  width: number;
  height: number;
  variants: EncodedVariant[];
}

const notAnImage = (detail: string) => new BadUserInputError(`file is not a ${ACCEPTED_FORMATS} image that can be decoded (${detail})`, 'file');

/**
 * Validates an upload body as an image by decoding it, and encodes its WebP variants. Refusals are
 * BAD_USER_INPUT on `file`: bytes of no accepted format, more pixels than allowed (checked from the header,
 * before anything is decoded, and again by sharp's own limit), or data the decoder cannot read to the end
 * (a truncated JPEG, say: warnings fail too).
 */
export async function processImage(path: string, maxInputPixels: number): Promise<ProcessedImage> {
  const handle = await open(path, 'r');
  const head = Buffer.alloc(16);
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const sniffed = sniffFormat(head);
  if (!sniffed) throw notAnImage('its bytes are no image of an accepted format');
  const input = () => sharp(path, { limitInputPixels: maxInputPixels, failOn: 'warning', sequentialRead: true });
  let metadata: sharp.Metadata;
  try {
    // the header only: no pixel is decoded yet, so the pixel count is checked here with a clear answer
    metadata = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw notAnImage((error as Error).message);
  }
  const decodedFormat = metadata.format === 'heif' && metadata.compression === 'av1' ? 'avif' : metadata.format;
  if (decodedFormat !== sniffed) throw notAnImage(`it decodes as ${metadata.format ?? 'nothing'}`);
  const { width, height } = metadata;
  if (!width || !height) throw notAnImage('it has no dimensions');
  if (width * height > maxInputPixels) {
    throw new BadUserInputError(`file has ${width} × ${height} pixels; at most ${maxInputPixels.toLocaleString('en')} are accepted`, 'file');
  }
  let variants: EncodedVariant[];
  try {
    variants = await Promise.all(
      (Object.entries(VARIANT_BOXES) as Array<[EncodedVariant['name'], number]>).map(async ([name, box]) => {
        const { data, info } = await input()
          .rotate()
          .resize({ width: box, height: box, fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 80 })
          .toBuffer({ resolveWithObject: true });
        return { name, data, width: info.width, height: info.height };
      }),
    );
  } catch (error) {
    throw notAnImage((error as Error).message);
  }
  // orientations 5 to 8 turn the picture a quarter: width and height as displayed swap
  const turned = (metadata.orientation ?? 1) >= 5;
  return { format: FORMATS[sniffed], width: turned ? height : width, height: turned ? width : height, variants };
}
