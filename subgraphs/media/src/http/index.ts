import { BadUserInputError, corsMiddleware, requestScope, type Caller, type CorsSettings, type Logger, type SubgraphDependencies } from '@tiergraph/runtime';
import { stat } from 'node:fs/promises';
import express, { type Express, type Request, type Response } from 'express';
import { servableContentType, type FileTree } from '../files/file-tree';
import type { MediaService } from '../domain/media-service';
import type { MediaVariantEntity, MediaFileEntity } from '../store/entities';
import { sendError } from './errors';
import { parseUpload } from './upload';

export interface MediaRouteDependencies extends SubgraphDependencies {
  cors: CorsSettings;
  files: FileTree;
  maxUploadBytes: number;
  /** The MediaService of one request, for the verified caller. */
  serviceFor: (caller: Caller, logger: Logger) => MediaService;
}

/** A year: file names are random and their bytes never change, so a cached copy never goes stale. */
const CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * Media's plain-HTTP routes on its own port, under /media: the file URLs (`GET /media/files/...`) and uploads
 * (`POST /media/upload`) of the contract. Browser frontends call them from their own origins, so everything on
 * this router is behind the same CORS rule as the gateway's /graphql; a route is added here and needs nothing else.
 */
export function mountMediaRoutes(app: Express, deps: MediaRouteDependencies): void {
  const router = express.Router();
  router.use(corsMiddleware(deps.cors));
  router.post('/upload', (req, res) => void upload(req, res, deps));
  router.get('/files/*path', (req, res) => void serveFile(req, res, deps));
  app.use('/media', router);
}

/** POST /media/upload: 201 with the stored file and its variants, or a JSON refusal with its contract code. */
async function upload(req: Request, res: Response, deps: MediaRouteDependencies): Promise<void> {
  const requestId = requestScope.getStore()?.requestId ?? String(res.getHeader('x-request-id') ?? '');
  const logger = deps.logger.child({ requestId });
  try {
    // who asks is checked before a byte of the body is read
    const caller = await deps.verifyToken(req.header('authorization'));
    const service = deps.serviceFor(caller, logger);
    const parsed = await parseUpload(req, deps.files, deps.maxUploadBytes);
    if (!parsed.file) throw new BadUserInputError('file is required (a multipart part named file)', 'file');
    const stored = await service.upload({ storeId: parsed.storeId, filename: parsed.file.filename, bodyPath: parsed.file.path });
    res.status(201).json(uploadAnswer(stored.file, stored.variants, service));
  } catch (error) {
    if (!req.complete) {
      // the rest of the body is not read: answer, then close the connection
      res.setHeader('connection', 'close');
      res.once('finish', () => req.destroy());
    }
    sendError(res, error, logger, requestId);
  }
}

function uploadAnswer(file: MediaFileEntity, variants: MediaVariantEntity[], service: MediaService) {
  return {
    id: file.id,
    storeId: file.storeId,
    filename: file.filename,
    mimeType: file.mimeType,
    sizeBytes: Number(file.sizeBytes),
    width: file.width,
    height: file.height,
    createdAt: file.createdAt.toISOString(),
    variants: variants.map((v) => ({ name: v.name, url: service.urlOf(v), mimeType: v.mimeType, width: v.width, height: v.height, sizeBytes: Number(v.sizeBytes) })),
  };
}

/**
 * GET /media/files/<ab>/<cd>/<key>_<variant>.<ext>: streams the file with its content type, a year of
 * Cache-Control and an ETag (304 on If-None-Match). Only paths of the tree's own shape are looked up; anything
 * else, and a path of that shape with no file, is 404.
 */
async function serveFile(req: Request, res: Response, deps: MediaRouteDependencies): Promise<void> {
  const requestId = String(res.getHeader('x-request-id') ?? '');
  const relativePath = req.path.slice('/files/'.length);
  const contentType = servableContentType(relativePath);
  const notFound = () => res.status(404).json({ error: { code: 'NOT_FOUND', message: `no media file at ${req.path}` } });
  if (!contentType) {
    notFound();
    return;
  }
  const info = await stat(deps.files.absolute(relativePath)).catch(() => null);
  if (!info?.isFile()) {
    notFound();
    return;
  }
  // the name is unique and the bytes behind it never change: the name is a strong validator
  const etag = `"${relativePath.slice(relativePath.lastIndexOf('/') + 1)}"`;
  res.setHeader('Cache-Control', CACHE_CONTROL);
  res.setHeader('ETag', etag);
  if (matchesEtag(req.header('if-none-match'), etag)) {
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Type', contentType);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.sendFile(relativePath, { root: deps.files.root, dotfiles: 'deny', etag: false, lastModified: false }, (error?: Error & { status?: number }) => {
    if (!error || res.headersSent) return;
    res.removeHeader('Cache-Control');
    res.removeHeader('ETag');
    if (error.status === 404) notFound();
    else sendError(res, error, deps.logger, requestId);
  });
}

/** Whether an If-None-Match header names this ETag (or is `*`); weak forms compare equal, as for GET they should. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}
