import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createTokenVerifier } from '@tiergraph/runtime';

const ROOT = join(__dirname, '..', '..');
const SECRET = 'token-cli-test-secret-0123456789';

function token(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, AUTH_JWT_SECRET: SECRET },
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
}

describe('pnpm token', () => {
  it('prints a token that the services accept, with the claims asked for', async () => {
    const { status, stdout } = token('--role', 'store', '--merchant-id', 'm-1', '--store-id', 's-1', '--sub', 'ana');
    expect(status).toBe(0);
    const caller = await createTokenVerifier({ AUTH_JWT_SECRET: SECRET })(`Bearer ${stdout}`);
    expect(caller).toEqual({ role: 'store', userId: 'ana', merchantId: 'm-1', storeId: 's-1' });
  });

  it.each([
    [['--role', 'merchant'], '--role merchant needs --merchant-id'],
    [['--role', 'store', '--merchant-id', 'm'], '--role store needs --store-id'],
    [['--role', 'root'], '--role must be one of admin, merchant, store, service'],
    [['--colour', 'blue'], "Unknown option '--colour'"],
  ])('refuses %p with a usage message and exit code 2', (args, message) => {
    const { status, stdout, stderr } = token(...args);
    expect([status, stdout]).toEqual([2, '']);
    expect(stderr).toContain(message);
    expect(stderr).toContain('usage: pnpm token');
  });
});
