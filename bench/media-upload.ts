/**
 * `node --import tsx bench/media-upload.ts [--uploads 40] [--concurrency 1,2,4] [--port-base 4200]`: how fast media takes a 2 MP
 * JPEG. Not part of `pnpm test` (or of `pnpm bench`'s scenarios).
 *
 * 1. CPU per variant, in this process: a 1,600 × 1,250 photo-like JPEG (smooth, upscaled from random pixels, as
 *    a camera picture compresses), the same sharp pipelines the upload runs (header, medium 800 px WebP, thumb
 *    200 px WebP), each run alone N times, CPU time from process.cpuUsage (user + system, all of libvips' threads).
 * 2. Uploads over HTTP, end to end: the whole stack as `pnpm start` runs it (ports from --port-base 4200,
 *    PostgreSQL 54349, `.data/media-bench`), a
 *    platform, merchant, store and an enterprise subscription (unlimited storage), then N uploads of that JPEG to
 *    `POST /media/upload` at each concurrency; images/s and the media process's CPU seconds per upload (from
 *    /proc, Linux only).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { signToken } from '@tiergraph/runtime';
import sharp from 'sharp';
import { BENCH_JWT_SECRET, BENCH_PORTS, startStack } from './stack';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

const ROOT = resolve(__dirname, '..');
/** Its own ports and data (beside `pnpm start`'s and `pnpm bench`'s), from --port-base (default 4200; PostgreSQL 54349). */
const PORT_BASE = Number(option('port-base', '4200'));
const PORTS = Object.fromEntries(
  Object.entries(BENCH_PORTS).map(([name, port]) => [name, name === 'EMBEDDED_PG_PORT' ? 54349 + (PORT_BASE - 4200) : PORT_BASE + (port - 4100)]),
) as Record<keyof typeof BENCH_PORTS, number>;
const GATEWAY = `http://127.0.0.1:${PORTS.GATEWAY_PORT}`;
const say = (line: string) => process.stdout.write(`[media-bench] ${line}\n`);


/** A photo-like 2 MP JPEG: random colours at 1/8 scale, upscaled smoothly, light grain, quality 85. */
async function photo(width = 1600, height = 1250): Promise<Buffer> {
  const small = await sharp(randomBytes((width / 8) * Math.ceil(height / 8) * 3), { raw: { width: width / 8, height: Math.ceil(height / 8), channels: 3 } })
    .blur(1.2)
    .png()
    .toBuffer();
  return sharp(small).resize(width, height, { kernel: 'cubic' }).jpeg({ quality: 85 }).toBuffer();
}

async function cpuOf(runs: number, step: () => Promise<unknown>): Promise<{ cpuMs: number; wallMs: number }> {
  await step(); // warm
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await step();
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / runs, wallMs: Number(process.hrtime.bigint() - started) / 1e6 / runs };
}

/** CPU seconds (user + system) of a process and all its threads, from /proc/<pid>/stat. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // after "pid (comm) ": state is field 0, utime 11, stime 12, in clock ticks
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

let ticks: number | undefined;
function ticksPerSecond(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return ticks;
}

/** The pid of the process listening on a local TCP port (the media subgraph), from /proc/net/tcp and /proc/<pid>/fd. */
function pidListeningOn(port: number): number | null {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const sockets = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(`:${hex}`) && cols[3] === '0A') sockets.add(`socket:[${cols[9]}]`);
    }
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) if (sockets.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return null;
}

async function graph(query: string, variables: Record<string, unknown>, token: string): Promise<any> {
  const response = await fetch(`${GATEWAY}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function main(): Promise<void> {
  const uploads = Number(option('uploads', '40'));
  const concurrencies = option('concurrency', '1,2,4').split(',').map(Number);
  say(`${os.availableParallelism()} cores (${os.cpus()[0]?.model}), node ${process.version}, sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, load ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  const jpeg = await photo();
  const file = join(os.tmpdir(), `media-bench-${process.pid}.jpg`);
  writeFileSync(file, jpeg);
  const meta = await sharp(file).metadata();
  say(`input: ${meta.width} × ${meta.height} JPEG (${((meta.width! * meta.height!) / 1e6).toFixed(2)} MP), ${(jpeg.length / 1024).toFixed(0)} KiB`);

  sharp.cache(false);
  const runs = 20;
  const input = () => sharp(file, { failOn: 'warning', sequentialRead: true });
  const variant = (box: number) => () => input().rotate().resize({ width: box, height: box, fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();
  const header = await cpuOf(runs, () => sharp(file, { limitInputPixels: false }).metadata());
  const medium = await cpuOf(runs, variant(800));
  const thumb = await cpuOf(runs, variant(200));
  const sizes = { medium: (await variant(800)()).length, thumb: (await variant(200)()).length };
  say(`CPU per step (mean of ${runs}): header ${header.cpuMs.toFixed(1)} ms; medium 800 px WebP ${medium.cpuMs.toFixed(1)} ms CPU (${medium.wallMs.toFixed(1)} ms wall, ${(sizes.medium / 1024).toFixed(0)} KiB); thumb 200 px WebP ${thumb.cpuMs.toFixed(1)} ms CPU (${thumb.wallMs.toFixed(1)} ms wall, ${(sizes.thumb / 1024).toFixed(1)} KiB)`);

  say(`starting the stack (scripts/start.ts, gateway ${GATEWAY}, media :${PORTS.MEDIA_PORT}, DATA_DIR=.data/media-bench)`);
  const stack = await startStack(ROOT, { secret: BENCH_JWT_SECRET, say, ports: PORTS, dataDir: join('.data', 'media-bench') });
  try {
    const admin = await signToken(BENCH_JWT_SECRET, { role: 'admin', sub: 'media-bench' }, '1h');
    const n = randomBytes(4).toString('hex');
    const platform = (await graph(`mutation($i: CreatePlatformInput!) { createPlatform(input: $i) { id } }`, { i: { code: `mb-${n}`, name: 'Media bench' } }, admin)).createPlatform;
    const merchant = (await graph(`mutation($i: CreateMerchantInput!) { createMerchant(input: $i) { id } }`, { i: { name: `Bench ${n}`, email: `bench-${n}@example.com` } }, admin)).createMerchant;
    const store = (await graph(`mutation($i: CreateStoreInput!) { createStore(input: $i) { id } }`, { i: { merchantId: merchant.id, platformId: platform.id, code: 'bench', name: 'Bench' } }, admin)).createStore;
    await graph(
      `mutation($m: ID!, $p: ID!, $i: UpdateMerchantSubscriptionInput!) { updateMerchantSubscription(merchantId: $m, platformId: $p, input: $i) { id } }`,
      { m: merchant.id, p: platform.id, i: { tierCode: 'enterprise', status: 'ACTIVE', billingCycle: 'MONTHLY' } },
      admin,
    );
    const token = await signToken(BENCH_JWT_SECRET, { role: 'store', sub: 'bench', merchantId: merchant.id, storeId: store.id }, '1h');
    const mediaPid = pidListeningOn(PORTS.MEDIA_PORT);
    const uploadOnce = async () => {
      const form = new FormData();
      form.append('storeId', store.id);
      form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), 'bench.jpg');
      const response = await fetch(`http://127.0.0.1:${PORTS.MEDIA_PORT}/media/upload`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
      if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };
    for (let i = 0; i < 3; i++) await uploadOnce(); // warm
    for (const concurrency of concurrencies) {
      const cpuBefore = mediaPid ? cpuSecondsOf(mediaPid) : 0;
      const started = process.hrtime.bigint();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < uploads) {
            next++;
            await uploadOnce();
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = mediaPid ? ((cpuSecondsOf(mediaPid) - cpuBefore) / uploads) * 1000 : null;
      say(`concurrency ${concurrency}: ${uploads} uploads in ${seconds.toFixed(2)} s = ${(uploads / seconds).toFixed(1)} images/s; media process CPU ${cpu === null ? 'n/a' : `${cpu.toFixed(0)} ms`} per upload`);
    }
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  },
);
