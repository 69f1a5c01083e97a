import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Debian's chromium, which the browser tests drive through playwright-core: Playwright's own browser download
 * cannot work on these machines, Debian's packages can. The test run installs it (see ensureChromium).
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** What a person runs to get it; named by every message about a missing chromium. */
export const CHROMIUM_INSTALL_COMMAND = 'apt-get update && apt-get install -y --no-install-recommends chromium';

export const CHROMIUM_MISSING = `${CHROMIUM_PATH} is missing and only root can install it: run \`sudo sh -c '${CHROMIUM_INSTALL_COMMAND}'\` (or \`npx -y pnpm@10 ensure-chromium\` as root)`;

export interface ChromiumHost {
  exists: (path: string) => boolean;
  isRoot: () => boolean;
  /** Runs a command without standard input; resolves to its exit status and what it printed. */
  run: (command: string, args: string[], env: NodeJS.ProcessEnv) => { status: number | null; output: string };
  say: (line: string) => void;
  now: () => number;
}

export const realHost: ChromiumHost = {
  exists: existsSync,
  isRoot: () => process.getuid?.() === 0,
  run: (command, args, env) => {
    const result = spawnSync(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
  },
  say: (line) => process.stderr.write(`${line}\n`),
  now: Date.now,
};

/** apt-get's steps: no prompts (CI has no standard input), and wait for a dpkg lock another install holds. */
const APT_STEPS = [['update'], ['install', '-y', '--no-install-recommends', 'chromium']];
const APT_OPTIONS = ['-q', '-o', 'DPkg::Lock::Timeout=600'];

/**
 * Makes sure CHROMIUM_PATH exists: as root, installs Debian's chromium with apt-get (a progress line per step);
 * otherwise throws a one-line message that names the fix. Nothing is skipped quietly.
 */
export function ensureChromium(host: ChromiumHost = realHost): void {
  if (host.exists(CHROMIUM_PATH)) return;
  if (!host.isRoot()) throw new Error(CHROMIUM_MISSING);
  const started = host.now();
  host.say(`chromium: ${CHROMIUM_PATH} is missing (the browser tests need it); installing Debian's chromium with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const step of APT_STEPS) {
    host.say(`chromium: apt-get ${step.join(' ')} …`);
    const { status, output } = host.run('apt-get', [...APT_OPTIONS, ...step], env);
    if (status !== 0) {
      const tail = output.trim().split('\n').slice(-15).join('\n');
      throw new Error(`${tail}\nchromium: \`apt-get ${step.join(' ')}\` failed (exit ${status}); install it by hand: ${CHROMIUM_INSTALL_COMMAND}`);
    }
  }
  if (!host.exists(CHROMIUM_PATH)) throw new Error(`chromium: apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
  host.say(`chromium: installed in ${Math.round((host.now() - started) / 1000)} s`);
}
