import type { WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import type { FileTree } from '../files/file-tree';
import { UploadRefusedError } from './errors';

/** What a multipart upload carried: its form fields and where its `file` part was streamed to. */
export interface ParsedUpload {
  storeId: string | undefined;
  file: { path: string; filename: string | undefined } | undefined;
}

/** Room for the form's boundaries and other fields beside the file. */
const FORM_OVERHEAD_BYTES = 64 * 1024;

/**
 * Streams a `multipart/form-data` body (busboy) without holding it in memory: the `file` part goes to a fresh
 * file in the tree's `.tmp/` (its name is random, never the client's), `storeId` is kept, anything else is
 * drained. The client's file name is kept whole (preservePath), so that a name with folders is refused, not cut.
 * A `file` past `maxBytes` is 413 and its partial body is removed; so is a body whose declared length alone is
 * too large (answered before it is read).
 */
export async function parseUpload(req: Request, files: FileTree, maxBytes: number): Promise<ParsedUpload> {
  if (!req.is('multipart/form-data')) {
    throw new UploadRefusedError('the upload must be multipart/form-data with the fields file and storeId', 'body', 415);
  }
  const declared = Number(req.header('content-length') ?? NaN);
  if (declared > maxBytes + FORM_OVERHEAD_BYTES) throw tooLarge(maxBytes);
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, preservePath: true, limits: { fileSize: maxBytes, files: 1, fields: 8, fieldSize: 1024, parts: 10 } });
  } catch (error) {
    throw new UploadRefusedError(`the multipart body cannot be read: ${(error as Error).message}`, 'body', 400);
  }
  const result: ParsedUpload = { storeId: undefined, file: undefined };
  let truncated = false;
  const writes: Array<Promise<unknown>> = [];
  const openStreams: WriteStream[] = [];
  parser.on('field', (name, value) => {
    if (name === 'storeId') result.storeId = value.trim();
  });
  parser.on('file', (name, stream, info) => {
    if (name !== 'file' || result.file) {
      stream.resume();
      return;
    }
    const target = files.createUploadFile();
    result.file = { path: target.path, filename: info.filename };
    stream.on('limit', () => {
      truncated = true;
    });
    stream.pipe(target.stream);
    openStreams.push(target.stream);
    const written = finished(target.stream);
    // awaited below; a refusal that comes first must not leave it unhandled
    written.catch(() => undefined);
    writes.push(written);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      parser.on('close', resolve);
      parser.on('error', reject);
      // a client that goes away mid-upload (ECONNRESET on the request) is no database failure
      req.on('error', (error) => reject(Object.assign(new UploadRefusedError('the upload was cut off before its end', 'file', 400), { cause: error })));
      // a body without a length (chunked) is cut off once it passes the limit, not read to its end
      let received = 0;
      let cut = false;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes + FORM_OVERHEAD_BYTES && !cut) {
          cut = true;
          req.unpipe(parser);
          reject(tooLarge(maxBytes));
        }
      });
      req.pipe(parser);
    });
    await Promise.all(writes);
  } catch (error) {
    // the part's write stream may still be open: close it (and let it finish closing) before its file goes
    for (const stream of openStreams) stream.destroy();
    await Promise.allSettled(writes);
    await removePart(result);
    if (error instanceof UploadRefusedError) throw error;
    throw new UploadRefusedError(`the multipart body cannot be read: ${(error as Error).message}`, 'body', 400);
  }
  if (truncated) {
    await removePart(result);
    throw tooLarge(maxBytes);
  }
  return result;
}

function tooLarge(maxBytes: number): UploadRefusedError {
  return new UploadRefusedError(`file is larger than the ${maxBytes} bytes an upload may have`, 'file', 413, { maxBytes });
}

async function removePart(upload: ParsedUpload): Promise<void> {
  if (upload.file) await rm(upload.file.path, { force: true });
}
