import { CHROMIUM_MISSING, CHROMIUM_PATH, ensureChromium, type ChromiumHost } from '../lib/chromium';

/** A machine as ensureChromium sees it: which files exist, who we are, and what apt-get answers. */
function fakeHost(options: { installed: boolean; root: boolean; aptFails?: string }) {
  const files = new Set(options.installed ? [CHROMIUM_PATH] : []);
  const calls: Array<{ args: string[]; frontend?: string }> = [];
  const lines: string[] = [];
  let clock = 0;
  const host: ChromiumHost = {
    exists: (path) => files.has(path),
    isRoot: () => options.root,
    run: (_command, args, env) => {
      calls.push({ args, frontend: env.DEBIAN_FRONTEND });
      clock += 20_000;
      if (options.aptFails && args.includes(options.aptFails)) return { status: 100, output: 'E: Could not get lock /var/lib/dpkg/lock-frontend' };
      if (args.includes('install')) files.add(CHROMIUM_PATH);
      return { status: 0, output: '' };
    },
    say: (line) => lines.push(line),
    now: () => clock,
  };
  return { host, calls, lines };
}

describe('ensureChromium (run by pnpm test before jest)', () => {
  it('does nothing when chromium is there', () => {
    const { host, calls, lines } = fakeHost({ installed: true, root: true });
    ensureChromium(host);
    expect([calls, lines]).toEqual([[], []]);
  });

  it('as root, installs Debian’s chromium with apt-get, without prompts, saying so step by step', () => {
    const { host, calls, lines } = fakeHost({ installed: false, root: true });
    ensureChromium(host);
    expect(calls).toEqual([
      { args: ['-q', '-o', 'DPkg::Lock::Timeout=600', 'update'], frontend: 'noninteractive' },
      { args: ['-q', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'chromium'], frontend: 'noninteractive' },
    ]);
    expect(lines).toEqual([
      "chromium: /usr/bin/chromium is missing (the browser tests need it); installing Debian's chromium with apt-get",
      'chromium: apt-get update …',
      'chromium: apt-get install -y --no-install-recommends chromium …',
      'chromium: installed in 40 s',
    ]);
  });

  it('fails with one line naming the fix when it is missing and this is not root', () => {
    const { host, calls } = fakeHost({ installed: false, root: false });
    expect(() => ensureChromium(host)).toThrow(CHROMIUM_MISSING);
    expect(CHROMIUM_MISSING).not.toContain('\n');
    expect(CHROMIUM_MISSING).toContain('apt-get install -y --no-install-recommends chromium');
    expect(calls).toEqual([]);
  });

  it('fails with apt-get’s own words and the command to run when apt-get fails', () => {
    const { host } = fakeHost({ installed: false, root: true, aptFails: 'install' });
    expect(() => ensureChromium(host)).toThrow(
      'E: Could not get lock /var/lib/dpkg/lock-frontend\nchromium: `apt-get install -y --no-install-recommends chromium` failed (exit 100); install it by hand: apt-get update && apt-get install -y --no-install-recommends chromium',
    );
  });
});
