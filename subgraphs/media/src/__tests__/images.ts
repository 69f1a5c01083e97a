import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** Pixels that do not compress (random), so sizes are realistic and every encoder has real work. */
export function noise(width: number, height: number, seed: Buffer = randomBytes(16)): sharp.Sharp {
  const data = Buffer.alloc(width * height * 3);
  // a cheap deterministic generator from the seed: the same seed gives the same picture and the same sizes
  let state = seed.readUInt32LE(0) || 1;
  for (let i = 0; i < data.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[i] = state & 0xff;
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

export const jpeg = (width: number, height: number, seed?: Buffer): Promise<Buffer> => noise(width, height, seed).jpeg({ quality: 85 }).toBuffer();

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A decompression bomb: a valid PNG of width × height one-bit grey pixels, all black, that compresses to a few
 * tens of KB and would decode to width × height pixels (20,000 × 20,000: 400 million).
 */
export function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const row = Buffer.alloc(1 + Math.ceil(width / 8)); // filter byte 0, then zero bits
  const raw = Buffer.alloc(row.length * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
