import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { billingSubgraph } from '@tiergraph/billing';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { tenancySubgraph } from '@tiergraph/tenancy';
import {
  createTestDatabase,
  createWorld,
  errorCodes,
  expectData,
  overrideLimit,
  postGraphQL,
  startTestSubgraphs,
  withInsertsHeld,
  type TestDatabase,
  type World,
} from '@tiergraph/testkit';
import sharp from 'sharp';
import { DEFAULT_MEDIA_SETTINGS } from '../domain/settings';
import { createMediaSubgraph } from '../index';
import { jpeg, noise, pngBomb } from './images';

const MiB = 1024 * 1024;
const MAX_UPLOAD_BYTES = 4 * MiB;

let db: TestDatabase;
let root: string;
let running: Record<'billing' | 'tenancy' | 'media', RunningSubgraph>;
let w: World;
let origin: string;

beforeAll(async () => {
  db = await createTestDatabase();
  root = await mkdtemp(join(tmpdir(), 'media-upload-'));
  const media = createMediaSubgraph({
    cors: { origins: [], credentials: false },
    storage: { ...DEFAULT_MEDIA_SETTINGS, root, maxUploadBytes: MAX_UPLOAD_BYTES, publicUrl: undefined },
  });
  running = await startTestSubgraphs({ billing: billingSubgraph, tenancy: tenancySubgraph, media }, db.url);
  origin = `http://127.0.0.1:${running.media.port}`;
  w = await createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });
});

afterAll(async () => {
  await Promise.all(Object.values(running ?? {}).map((s) => s.stop()));
  await db?.drop();
  if (root) await rm(root, { recursive: true, force: true });
});

interface UploadAnswer {
  status: number;
  body: any;
}

/** POST /media/upload as a browser form would send it. */
async function upload(token: string | undefined, parts: { storeId?: string; file?: { data: Buffer; filename: string; type?: string } }): Promise<UploadAnswer> {
  const form = new FormData();
  if (parts.storeId !== undefined) form.append('storeId', parts.storeId);
  if (parts.file) form.append('file', new Blob([parts.file.data], { type: parts.file.type ?? 'application/octet-stream' }), parts.file.filename);
  const response = await fetch(`${origin}/media/upload`, {
    method: 'POST',
    body: form,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, body: await response.json() };
}

/** Every file under the media root, relative to it (the empty `.tmp/` folder is no file). */
async function filesOnDisk(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else found.push(relative(root, path));
    }
  };
  await walk(root);
  return found.sort();
}

async function rowCounts(): Promise<{ files: number; variants: number; intents: number }> {
  const [row] = await running.media.dataSource.query(
    `SELECT (SELECT count(*)::int FROM media.media_files) AS files, (SELECT count(*)::int FROM media.media_variants) AS variants,
            (SELECT count(*)::int FROM media.file_intents) AS intents`,
  );
  return row;
}

const STORE_MEDIA = `query($r: [_Any!]!, $first: Int, $after: String) {
  _entities(representations: $r) {
    ... on Store { id media(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id filename mimeType sizeBytes storedBytes width height variants { name url mimeType width height sizeBytes } } }
    } }
  }
}`;
const USAGE = `query($r: [_Any!]!) { _entities(representations: $r) { ... on MerchantSubscription { mediaUsage { code current } } } }`;
const DELETE = `mutation($id: ID!) { deleteMedia(id: $id) }`;
const STATS = `{ mediaStorageStats { totalFiles totalVariants totalSizeBytes totalSizeGb } }`;

const storeRef = (storeId: string, merchantId: string) => ({ __typename: 'Store', id: storeId, merchantId, platformId: w.platformId });
const mediaGraph = (query: string, variables: Record<string, unknown>, token: string) => postGraphQL(running.media.url, { query, variables }, { token });
const usageOf = async (merchantId: string, platformId = w.platformId) =>
  (await expectData(mediaGraph(USAGE, { r: [{ __typename: 'MerchantSubscription', merchantId, platformId }] }, w.tokens.admin)))._entities[0].mediaUsage[0]
    .current as number;

describe('media: POST /media/upload', () => {
  it('stores a JPEG as its original and WebP variants of 800 and 200 px in the sharded tree, sizes in the database', async () => {
    const photo = await jpeg(1600, 1200);
    const answer = await upload(w.tokens.store1, { storeId: w.s1, file: { data: photo, filename: 'hero shot.jpg', type: 'image/jpeg' } });
    expect(answer.status).toBe(201);
    const stored = answer.body;
    expect(stored).toMatchObject({ storeId: w.s1, filename: 'hero shot.jpg', mimeType: 'image/jpeg', sizeBytes: photo.length, width: 1600, height: 1200 });
    expect(stored.variants.map((v: any) => [v.name, v.mimeType, v.width, v.height])).toEqual([
      ['original', 'image/jpeg', 1600, 1200],
      ['medium', 'image/webp', 800, 600],
      ['thumb', 'image/webp', 200, 150],
    ]);
    const paths = stored.variants.map((v: any) => v.url.replace('/media/files/', ''));
    const key = paths[0].split('/')[2].split('_')[0];
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(paths).toEqual([
      `${key.slice(0, 2)}/${key.slice(2, 4)}/${key}_original.jpg`,
      `${key.slice(0, 2)}/${key.slice(2, 4)}/${key}_800.webp`,
      `${key.slice(0, 2)}/${key.slice(2, 4)}/${key}_200.webp`,
    ]);
    // the original is the uploaded bytes; the variants are WebP (RIFF....WEBP) of the sizes recorded
    expect((await readFile(join(root, paths[0]))).equals(photo)).toBe(true);
    for (const [i, variant] of stored.variants.entries()) {
      const bytes = await readFile(join(root, paths[i]));
      expect(bytes.length).toBe(variant.sizeBytes);
      if (i > 0) {
        expect([bytes.subarray(0, 4).toString('latin1'), bytes.subarray(8, 12).toString('latin1')]).toEqual(['RIFF', 'WEBP']);
        const decoded = await sharp(bytes).metadata();
        expect([decoded.format, decoded.width, decoded.height]).toEqual(['webp', variant.width, variant.height]);
      }
    }
    const storedBytes = stored.variants.reduce((sum: number, v: any) => sum + v.sizeBytes, 0);
    const [row] = await running.media.dataSource.query(`SELECT stored_bytes::int AS stored, merchant_id, platform_id FROM media.media_files WHERE id = $1`, [stored.id]);
    expect(row).toEqual({ stored: storedBytes, merchant_id: w.m1, platform_id: w.platformId });
    expect(await usageOf(w.m1)).toBe(Math.ceil(storedBytes / MiB));
    expect(await rowCounts()).toMatchObject({ intents: 0 });
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
  });

  it('accepts PNG, WebP, GIF and AVIF by what their bytes decode as, whatever the declared type', async () => {
    const picture = () => noise(300, 200);
    const cases: Array<[string, Buffer]> = [
      ['image/png', await picture().png().toBuffer()],
      ['image/webp', await picture().webp().toBuffer()],
      ['image/gif', await picture().gif().toBuffer()],
      ['image/avif', await picture().avif().toBuffer()],
    ];
    for (const [mimeType, data] of cases) {
      const answer = await upload(w.tokens.merchant1, { storeId: w.s1b, file: { data, filename: 'picture', type: 'text/plain' } });
      expect([mimeType, answer.status, answer.body.mimeType, answer.body.width, answer.body.height]).toEqual([mimeType, 201, mimeType, 300, 200]);
      expect(answer.body.variants.map((v: any) => [v.name, v.width])).toEqual([
        ['original', 300],
        ['medium', 300],
        ['thumb', 200],
      ]);
    }
  });

  describe('refusals leave nothing on disk or in the database', () => {
    const refusals: Array<[string, () => Promise<{ token: () => string; storeId?: () => string; file?: { data: Buffer; filename: string; type?: string } }>, number, string, string | undefined]> = [
      ['a text file named .png', async () => ({ token: () => w.tokens.store1, storeId: () => w.s1, file: { data: Buffer.from('not a picture at all\n'.repeat(50)), filename: 'photo.png', type: 'image/png' } }), 400, 'BAD_USER_INPUT', 'file'],
      [
        'a truncated JPEG',
        async () => {
          const whole = await jpeg(800, 600);
          return { token: () => w.tokens.store1, storeId: () => w.s1, file: { data: whole.subarray(0, Math.floor(whole.length * 0.6)), filename: 'cut.jpg', type: 'image/jpeg' } };
        },
        400,
        'BAD_USER_INPUT',
        'file',
      ],
      ['a 20,000 × 20,000 pixel bomb', async () => ({ token: () => w.tokens.store1, storeId: () => w.s1, file: { data: pngBomb(20_000, 20_000), filename: 'bomb.png', type: 'image/png' } }), 400, 'BAD_USER_INPUT', 'file'],
      ['a body past the upload limit', async () => ({ token: () => w.tokens.store1, storeId: () => w.s1, file: { data: randomBytes(MAX_UPLOAD_BYTES + 1), filename: 'big.jpg', type: 'image/jpeg' } }), 413, 'BAD_USER_INPUT', 'file'],
      ['a file name with folders (path traversal)', async () => ({ token: () => w.tokens.store1, storeId: () => w.s1, file: { data: await jpeg(100, 100), filename: '../../../etc/cron.d/x.jpg', type: 'image/jpeg' } }), 400, 'BAD_USER_INPUT', 'filename'],
      ['a missing storeId', async () => ({ token: () => w.tokens.merchant1, file: { data: await jpeg(100, 100), filename: 'a.jpg' } }), 400, 'BAD_USER_INPUT', 'storeId'],
      ['a missing file', async () => ({ token: () => w.tokens.merchant1, storeId: () => w.s1 }), 400, 'BAD_USER_INPUT', 'file'],
      ["another tenant's store", async () => ({ token: () => w.tokens.merchant2, storeId: () => w.s1, file: { data: await jpeg(100, 100), filename: 'a.jpg' } }), 403, 'FORBIDDEN', undefined],
      ["another store of the same merchant (store user)", async () => ({ token: () => w.tokens.store1b, storeId: () => w.s1, file: { data: await jpeg(100, 100), filename: 'a.jpg' } }), 403, 'FORBIDDEN', undefined],
      ['a service token', async () => ({ token: () => w.tokens.service, storeId: () => w.s1, file: { data: await jpeg(100, 100), filename: 'a.jpg' } }), 403, 'FORBIDDEN', undefined],
      ['a merchant without a subscription', async () => ({ token: () => w.tokens.merchant3, storeId: () => w.s3, file: { data: await jpeg(100, 100), filename: 'a.jpg' } }), 403, 'SUBSCRIPTION_INACTIVE', undefined],
      ['an unknown store', async () => ({ token: () => w.tokens.admin, storeId: () => randomUUID(), file: { data: await jpeg(100, 100), filename: 'a.jpg' } }), 404, 'NOT_FOUND', undefined],
      ['no token', async () => ({ token: () => '', storeId: () => w.s1, file: { data: await jpeg(100, 100), filename: 'a.jpg' } }), 401, 'UNAUTHENTICATED', undefined],
    ];

    it.each(refusals)('%s', async (_name, make, status, code, field) => {
      const before = { disk: await filesOnDisk(), rows: await rowCounts() };
      const request = await make();
      const answer = await upload(request.token() || undefined, { storeId: request.storeId?.(), file: request.file });
      expect([answer.status, answer.body.error?.code, answer.body.error?.field]).toEqual([status, code, field]);
      expect(typeof answer.body.error.message).toBe('string');
      expect(await filesOnDisk()).toEqual(before.disk);
      expect(await rowCounts()).toEqual(before.rows);
    });

    it('says the bomb has too many pixels (refused from its header, before decoding)', async () => {
      const answer = await upload(w.tokens.store1, { storeId: w.s1, file: { data: pngBomb(20_000, 20_000), filename: 'bomb.png' } });
      expect(answer.body.error.message).toMatch(/20000 × 20000 pixels; at most 50,000,000/);
    });

    it('answers 413 from the declared length alone, before reading the body', async () => {
      const answer = await new Promise<{ status: number; body: any }>((resolve, reject) => {
        const request = http.request(`${origin}/media/upload`, {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(50 * MiB), authorization: `Bearer ${w.tokens.store1}` },
        });
        request.on('response', (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        });
        request.on('error', reject);
        // headers only: the body never comes
        request.flushHeaders();
      });
      expect([answer.status, answer.body.error.code, answer.body.error.field, answer.body.error.maxBytes]).toEqual([413, 'BAD_USER_INPUT', 'file', MAX_UPLOAD_BYTES]);
    });

    it('cuts off a body without a length (chunked) once it passes the limit, without reading it to its end', async () => {
      const before = { disk: await filesOnDisk(), rows: await rowCounts() };
      const boundary = 'chunked-boundary';
      const answer = await new Promise<{ status: number; body: any; sent: number }>((resolve, reject) => {
        let sent = 0;
        const request = http.request(`${origin}/media/upload`, {
          method: 'POST',
          agent: false,
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked', authorization: `Bearer ${w.tokens.store1}` },
        });
        request.on('response', (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), sent }));
        });
        // once the server has answered and closed, writing fails: that is the point
        request.on('error', (error) => (sent > MAX_UPLOAD_BYTES ? undefined : reject(error)));
        request.write(`--${boundary}\r\nContent-Disposition: form-data; name="storeId"\r\n\r\n${w.s1}\r\n`);
        request.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="endless.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
        // up to 10 times the limit, 64 KiB at a time, as long as the server reads
        const chunk = randomBytes(64 * 1024);
        const pump = () => {
          while (sent < 10 * MAX_UPLOAD_BYTES && !request.destroyed) {
            sent += chunk.length;
            if (!request.write(chunk)) return void request.once('drain', pump);
          }
          request.end();
        };
        pump();
      });
      expect([answer.status, answer.body.error.code, answer.body.error.field]).toEqual([413, 'BAD_USER_INPUT', 'file']);
      expect(answer.sent).toBeLessThan(10 * MAX_UPLOAD_BYTES);
      expect(await filesOnDisk()).toEqual(before.disk);
      expect(await rowCounts()).toEqual(before.rows);
    });

    it('refuses a body that is no multipart form with 415', async () => {
      const response = await fetch(`${origin}/media/upload`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${w.tokens.store1}` },
        body: JSON.stringify({ storeId: w.s1 }),
      });
      expect([response.status, ((await response.json()) as { error: { code: string } }).error.code]).toEqual([415, 'BAD_USER_INPUT']);
    });
  });

  it('removes the files when the insert fails (a database error after the files were written)', async () => {
    // a real failure of the real insert: a trigger that refuses one file name
    await running.media.dataSource.query(`
      CREATE FUNCTION media.refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
      CREATE TRIGGER refuse_insert BEFORE INSERT ON media.media_files FOR EACH ROW
        WHEN (NEW.filename = 'doomed.jpg') EXECUTE FUNCTION media.refuse_insert();`);
    try {
      const before = { disk: await filesOnDisk(), rows: await rowCounts() };
      const answer = await upload(w.tokens.store1, { storeId: w.s1, file: { data: await jpeg(400, 300), filename: 'doomed.jpg' } });
      expect([answer.status, answer.body.error.code, typeof answer.body.error.requestId]).toEqual([500, 'INTERNAL_SERVER_ERROR', 'string']);
      expect(await filesOnDisk()).toEqual(before.disk);
      expect(await rowCounts()).toEqual(before.rows);
    } finally {
      await running.media.dataSource.query(`DROP TRIGGER refuse_insert ON media.media_files; DROP FUNCTION media.refuse_insert();`);
    }
  });
});

describe('media: max_storage_mb on upload', () => {
  it('holds exactly when 20 uploads race for the last megabyte, and a delete frees the space', async () => {
    const world = await createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });
    const photo = await jpeg(400, 300, Buffer.alloc(16, 42));
    // one upload tells what each identical upload stores (the encoders are deterministic), then goes
    const probe = await upload(world.tokens.merchant1, { storeId: world.s1, file: { data: photo, filename: 'probe.jpg' } });
    expect(probe.status).toBe(201);
    const each = probe.body.variants.reduce((sum: number, v: any) => sum + v.sizeBytes, 0);
    expect((await expectData(mediaGraph(DELETE, { id: probe.body.id }, world.tokens.merchant1))).deleteMedia).toBe(true);

    await overrideLimit(running.billing.url, world.m1, world.platformId, 'max_storage_mb', 2);
    // fill all but room for two (and a bit), so the race is for the last of the second MiB
    const filler = Math.floor((2 * MiB) / each) - 2;
    for (let i = 0; i < filler; i++) expect((await upload(world.tokens.store1, { storeId: world.s1, file: { data: photo, filename: `f${i}.jpg` } })).status).toBe(201);
    const room = Math.floor((2 * MiB - filler * each) / each);
    expect(room).toBe(2);

    // inserts are held until five racers (media's pool) wait on a lock: without the per-merchant advisory lock all
    // five have counted the same bytes by then and would all insert
    const answers = await withInsertsHeld(db.url, 'media.media_files', 5, () =>
      Promise.all(
        // from the store's user and the merchant, to both of the merchant's stores: one quota for all of them
        Array.from({ length: 20 }, (_, i) =>
          upload(i % 3 === 0 ? world.tokens.merchant1 : world.tokens.store1, { storeId: i % 3 === 0 ? world.s1b : world.s1, file: { data: photo, filename: `race${i}.jpg` } }),
        ),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(room);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused).toHaveLength(20 - room);
    for (const answer of refused) {
      expect(answer.body.error).toMatchObject({ code: 'FEATURE_LIMIT_REACHED', featureCode: 'max_storage_mb', limit: 2 });
      expect(answer.status).toBe(403);
    }
    const [{ bytes, files }] = await running.media.dataSource.query(
      `SELECT sum(stored_bytes)::int AS bytes, count(*)::int AS files FROM media.media_files WHERE merchant_id = $1`,
      [world.m1],
    );
    expect([files, bytes]).toEqual([filler + room, (filler + room) * each]);
    expect(bytes).toBeLessThanOrEqual(2 * MiB);
    expect(await usageOf(world.m1, world.platformId)).toBe(2);
    expect((await rowCounts()).intents).toBe(0);
    // the refused ones left nothing: three files per stored row
    const keys = await running.media.dataSource.query(`SELECT storage_key FROM media.media_files WHERE merchant_id = $1`, [world.m1]);
    const disk = await filesOnDisk();
    for (const { storage_key: key } of keys) expect(disk.filter((p) => p.includes(key))).toHaveLength(3);
    expect(await readdir(join(root, '.tmp'))).toEqual([]);

    // full: the next one is refused; deleting one makes room for exactly one again
    const full = await upload(world.tokens.store1, { storeId: world.s1, file: { data: photo, filename: 'one-more.jpg' } });
    expect([full.status, full.body.error.code, full.body.error.current]).toEqual([403, 'FEATURE_LIMIT_REACHED', 2]);
    const listed = await expectData(mediaGraph(STORE_MEDIA, { r: [storeRef(world.s1, world.m1)], first: 1 }, world.tokens.merchant1));
    const victim = listed._entities[0].media.edges[0].node;
    const victimPaths = victim.variants.map((v: any) => v.url.replace('/media/files/', ''));
    expect((await expectData(mediaGraph(DELETE, { id: victim.id }, world.tokens.store1))).deleteMedia).toBe(true);
    for (const path of victimPaths) await expect(stat(join(root, path))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await upload(world.tokens.store1, { storeId: world.s1, file: { data: photo, filename: 'fits-again.jpg' } })).status).toBe(201);
  });
});

describe('media: serving, listing, deleting, stats', () => {
  let stored: any;
  beforeAll(async () => {
    stored = (await upload(w.tokens.store2, { storeId: w.s2, file: { data: await jpeg(640, 480), filename: 'served.jpg' } })).body;
  });

  it('streams each variant with its content type, a year of Cache-Control and an ETag (304 when it matches)', async () => {
    for (const variant of stored.variants) {
      const response = await fetch(`${origin}${variant.url}`);
      const body = Buffer.from(await response.arrayBuffer());
      expect([response.status, response.headers.get('content-type'), response.headers.get('cache-control')]).toEqual([200, variant.mimeType, 'public, max-age=31536000, immutable']);
      expect(body.length).toBe(variant.sizeBytes);
      const etag = response.headers.get('etag');
      expect(etag).toMatch(/^"[0-9a-f]{32}_(original|800|200)\.(jpg|webp)"$/);
      const again = await fetch(`${origin}${variant.url}`, { headers: { 'if-none-match': etag! } });
      expect(again.status).toBe(304);
    }
  });

  it('answers 404 for unknown paths and for every path that is not of the tree’s shape, traversal included', async () => {
    const key = stored.variants[0].url.split('/')[5].split('_')[0];
    const rawGet = (path: string) =>
      new Promise<number>((resolve, reject) => {
        // a raw request line: fetch would normalise the dots away before sending
        http.get({ host: '127.0.0.1', port: running.media.port, path, agent: false }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        }).on('error', reject);
      });
    const paths = [
      `/media/files/${key.slice(0, 2)}/${key.slice(2, 4)}/${'0'.repeat(32)}_200.webp`,
      `/media/files/00/00/${'0'.repeat(32)}_200.webp`,
      '/media/files/../../../../etc/passwd',
      '/media/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      `/media/files/${key.slice(0, 2)}/${key.slice(2, 4)}/../../.tmp/x.upload`,
      `/media/files/${key.slice(0, 2)}/${key.slice(2, 4)}/${key}_200.webp.tmp`,
      `/media/files/ff/ff/${key}_200.webp`,
      `/media/files/${key.slice(0, 2)}/${key.slice(2, 4)}/${key}_original.png`,
      '/media/files/.tmp',
      '/media/files/',
    ];
    for (const path of paths) expect([path, await rawGet(path)]).toEqual([path, 404]);
  });

  it('lists a store’s files newest first with their variants, in pages, for whoever may read the store', async () => {
    const world = await createWorld({ tenancy: running.tenancy.url, billing: running.billing.url });
    const ids: string[] = [];
    for (const name of ['first.jpg', 'second.jpg', 'third.jpg']) ids.push((await upload(world.tokens.store1, { storeId: world.s1, file: { data: await jpeg(300, 300), filename: name } })).body.id);
    const page1 = (await expectData(mediaGraph(STORE_MEDIA, { r: [storeRef(world.s1, world.m1)], first: 2 }, world.tokens.store1)))._entities[0].media;
    expect(page1.totalCount).toBe(3);
    expect(page1.edges.map((e: any) => e.node.filename)).toEqual(['third.jpg', 'second.jpg']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    expect(page1.edges[0].node.variants.map((v: any) => v.name)).toEqual(['original', 'medium', 'thumb']);
    expect(page1.edges[0].node.storedBytes).toBe(page1.edges[0].node.variants.reduce((s: number, v: any) => s + v.sizeBytes, 0));
    const page2 = (await expectData(mediaGraph(STORE_MEDIA, { r: [storeRef(world.s1, world.m1)], first: 2, after: page1.pageInfo.endCursor }, world.tokens.merchant1)))._entities[0].media;
    expect([page2.edges.map((e: any) => e.node.id), page2.pageInfo.hasNextPage]).toEqual([[ids[0]], false]);

    const foreign = await mediaGraph(STORE_MEDIA, { r: [storeRef(world.s1, world.m1)] }, world.tokens.merchant2);
    expect(errorCodes(foreign)).toEqual(['FORBIDDEN']);
    // a representation that names another merchant lists nothing of this store
    const forged = await expectData(mediaGraph(STORE_MEDIA, { r: [storeRef(world.s1, world.m2)] }, world.tokens.merchant2));
    expect(forged._entities[0].media.totalCount).toBe(0);
  });

  it('lists the same files for a representation whose ids are in upper case, also for the store’s own user (tenancy stores them in lower case)', async () => {
    const ref = storeRef(w.s2.toUpperCase(), w.m2.toUpperCase());
    for (const token of [w.tokens.store2, w.tokens.admin]) {
      const listed = (await expectData(mediaGraph(STORE_MEDIA, { r: [ref] }, token)))._entities[0].media;
      expect(listed.edges.map((e: any) => e.node.id)).toContain(stored.id);
    }
    expect(errorCodes(await mediaGraph(STORE_MEDIA, { r: [ref] }, w.tokens.store1))).toEqual(['FORBIDDEN']);
  });

  it('deletes rows and files once (a second call is NOT_FOUND), only for the store’s own callers', async () => {
    const mine = (await upload(w.tokens.store2, { storeId: w.s2, file: { data: await jpeg(300, 200), filename: 'gone.jpg' } })).body;
    const paths = mine.variants.map((v: any) => v.url.replace('/media/files/', ''));
    for (const path of paths) expect((await stat(join(root, path))).isFile()).toBe(true);
    expect(errorCodes(await mediaGraph(DELETE, { id: mine.id }, w.tokens.merchant1))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await mediaGraph(DELETE, { id: mine.id }, w.tokens.service))).toEqual(['FORBIDDEN']);
    const usageBefore = await usageOf(w.m2);
    expect((await expectData(mediaGraph(DELETE, { id: mine.id }, w.tokens.merchant2))).deleteMedia).toBe(true);
    for (const path of paths) await expect(stat(join(root, path))).rejects.toMatchObject({ code: 'ENOENT' });
    const [{ n }] = await running.media.dataSource.query(`SELECT count(*)::int AS n FROM media.media_variants WHERE media_file_id = $1`, [mine.id]);
    expect(n).toBe(0);
    expect((await rowCounts()).intents).toBe(0);
    expect(errorCodes(await mediaGraph(DELETE, { id: mine.id }, w.tokens.merchant2))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await mediaGraph(DELETE, { id: 'nope' }, w.tokens.admin))).toEqual(['NOT_FOUND']);
    expect(await usageOf(w.m2)).toBeLessThanOrEqual(usageBefore);
  });

  it('gives admins the totals from the database, and nobody else', async () => {
    const data = await expectData(mediaGraph(STATS, {}, w.tokens.admin));
    const [expected] = await running.media.dataSource.query(
      `SELECT (SELECT count(*)::int FROM media.media_files) AS files, (SELECT count(*)::int FROM media.media_variants) AS variants,
              (SELECT sum(stored_bytes)::float8 FROM media.media_files) AS bytes`,
    );
    expect(expected.files).toBeGreaterThan(0);
    expect(data.mediaStorageStats).toEqual({
      totalFiles: expected.files,
      totalVariants: expected.files * 3,
      totalSizeBytes: expected.bytes,
      totalSizeGb: Math.round((expected.bytes / 1024 ** 3) * 1e6) / 1e6,
    });
    expect(expected.variants).toBe(expected.files * 3);
    for (const token of [w.tokens.merchant1, w.tokens.store1, w.tokens.service]) expect(errorCodes(await mediaGraph(STATS, {}, token))).toEqual(['FORBIDDEN']);
  });
});
