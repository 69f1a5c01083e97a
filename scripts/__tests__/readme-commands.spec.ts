import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTokenVerifier } from '@tiergraph/runtime';

/**
 * Issue 11's last row: the README's `TOKEN=$(pnpm -s token --role admin)` failed on a machine with only npm
 * ("pnpm: command not found", an empty token, UNAUTHENTICATED). The shell blocks a newcomer copies must call pnpm
 * through npx, and the token line must print exactly one token that the services accept.
 */
const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The command lines of the README's ```sh blocks, comments dropped. */
function shellLines(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((block) => block[1].split('\n'))
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line.length > 0);
}

/** Lines that run pnpm other than as `npx -y pnpm@10`: a bare `pnpm` at a command position. */
function barePnpm(lines: string[]): string[] {
  return lines.filter((line) => /(^|[;&|(]\s*|\$\(\s*)pnpm\s/.test(line.replaceAll('npx -y pnpm@10', 'NPX_PNPM')));
}

describe("the README's shell blocks", () => {
  it('call pnpm only through npx -y pnpm@10, so they run on a machine with only npm', () => {
    const lines = shellLines(readme);
    expect(lines.length).toBeGreaterThan(5);
    expect(barePnpm(lines)).toEqual([]);
    // the check can fail: the line the probe hit is caught
    expect(barePnpm(['TOKEN=$(pnpm -s token --role admin)'])).toHaveLength(1);
  });

  it("give a token line whose output is one token the services accept (what $(…) captures)", async () => {
    const line = shellLines(readme).find((l) => l.startsWith('TOKEN=$('));
    expect(line).toBe('TOKEN=$(npx -y pnpm@10 -s token --role admin)');
    const secret = 'readme-token-line-secret-0123456789';
    const stdout = execFileSync('npx', ['-y', 'pnpm@10', '-s', 'token', '--role', 'admin'], {
      cwd: ROOT,
      env: { ...process.env, AUTH_JWT_SECRET: secret },
      encoding: 'utf8',
    });
    const printed = stdout.trim().split('\n');
    expect(printed).toHaveLength(1);
    const caller = await createTokenVerifier({ AUTH_JWT_SECRET: secret })(`Bearer ${printed[0]}`);
    expect(caller.role).toBe('admin');
  }, 60_000);
});
