import { postGraphQL, tokenFor } from '@tiergraph/testkit';
import { describeProcess, eventually, freshEnv, isAlive, kill, killAll, portAnswers, reportedPids, startSystem, waitFor, type Started } from './system';

/**
 * `pnpm start` supervises (issue 11): a crashed service is restarted while the others keep serving, a crash loop
 * stops everything loudly, and however start.ts goes — SIGHUP, SIGTERM, Ctrl-C, or SIGKILL — nothing is left running.
 */
afterAll(killAll);

async function healthy(env: Record<string, string>): Promise<Started> {
  const started = startSystem(env);
  await waitFor(started, /tiergraph is healthy after/, 90_000);
  return started;
}

const pidOf = (started: Started, service: string): number => {
  const all = [...started.output().matchAll(new RegExp(`\\[start\\]\\s+${service} started \\(pid (\\d+)\\)`, 'g'))];
  return Number(all[all.length - 1][1]);
};

const status = async (url: string) => (await fetch(url).catch(() => null))?.status ?? 0;

describe('pnpm start supervises its services', () => {
  it('restarts a killed service with backoff while the others keep serving; the next requests succeed', async () => {
    const env = await freshEnv();
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    const admin = await tokenFor({ role: 'admin' });
    const started = await healthy(env);
    try {
      const orders = pidOf(started, 'orders');
      const killedAt = Date.now();
      process.kill(orders, 'SIGKILL');
      await waitFor(started, /orders exited unexpectedly \(SIGKILL\); restarting it in 500 ms/, 10_000);
      // the stack is still up: tenancy answers through the gateway
      const platforms = await postGraphQL(`${gateway}/graphql`, { query: '{ platforms { code } }' }, { token: admin });
      expect(platforms.errors).toBeUndefined();
      await waitFor(started, /orders is healthy again, [\d.]+ s after the crash/, 30_000);
      await eventually('gateway /health is 200 again', async () => (await status(`${gateway}/health`)) === 200, 10_000);
      console.log(`supervision: orders back and the gateway healthy ${((Date.now() - killedAt) / 1000).toFixed(1)} s after kill -9`);
      expect(pidOf(started, 'orders')).not.toBe(orders);
      expect(started.child.exitCode).toBeNull();
      // the restarted orders itself answers, on its own port and through the gateway's health of every subgraph
      expect(await status(`http://127.0.0.1:${env.ORDERS_PORT}/health`)).toBe(200);
      expect(((await (await fetch(`${gateway}/health`)).json()) as { subgraphs: Record<string, string> }).subgraphs.orders).toBe('ok');
      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
    } finally {
      await kill(started);
    }
  }, 180_000);

  it('gives up loudly on a crash loop and leaves nothing running', async () => {
    const env = { ...(await freshEnv()), MAX_RESTARTS: '1' };
    const started = await healthy(env);
    try {
      process.kill(pidOf(started, 'catalog'), 'SIGKILL');
      await waitFor(started, /catalog is healthy again/, 30_000);
      process.kill(pidOf(started, 'catalog'), 'SIGKILL');
      expect(await started.exited).toBe(1);
      expect(started.output()).toMatch(/stopping \(catalog exited unexpectedly \(SIGKILL\): 2 crashes within 60 s \(MAX_RESTARTS=1\), giving up\)/);
      for (const pid of reportedPids(started)) await eventually(`pid ${pid} gone`, () => !isAlive(pid), 15_000);
    } finally {
      await kill(started);
    }
  }, 180_000);

  it.each([
    ['SIGHUP (the terminal closed)', 'SIGHUP'],
    ['SIGTERM', 'SIGTERM'],
  ] as const)('%s to start.ts stops every service, then PostgreSQL, and exits 0', async (_case, signal) => {
    const env = await freshEnv();
    const started = await healthy(env);
    try {
      const pids = reportedPids(started);
      expect(pids).toHaveLength(8); // six subgraphs, the gateway, PostgreSQL
      started.child.kill(signal);
      expect(await started.exited).toBe(0);
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
      expect(started.output()).toContain('embedded PostgreSQL stopped');
    } finally {
      await kill(started);
    }
  }, 180_000);

  it('Ctrl-C (SIGINT to the terminal’s process group) stops services first, then PostgreSQL, quietly', async () => {
    const env = await freshEnv();
    const started = await healthy(env);
    try {
      const pids = reportedPids(started);
      const at = Date.now();
      // what a terminal does: the signal to the foreground process group, which start.ts leads here
      process.kill(-started.child.pid!, 'SIGINT');
      expect(await started.exited).toBe(0);
      console.log(`supervision: Ctrl-C stopped everything in ${((Date.now() - at) / 1000).toFixed(1)} s`);
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
      const output = started.output();
      expect(output).toContain('embedded PostgreSQL stopped');
      expect(output).not.toMatch(/did not confirm it stopped|terminating connection|DatabaseError|exited unexpectedly/);
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
    } finally {
      await kill(started);
    }
  }, 180_000);

  it('when start.ts dies without stopping anything (SIGKILL), every service and PostgreSQL stop by themselves', async () => {
    const env = await freshEnv();
    const started = await healthy(env);
    try {
      const pids = reportedPids(started);
      process.kill(started.child.pid!, 'SIGKILL');
      await started.exited;
      const killedAt = Date.now();
      for (const pid of pids) {
        await eventually(`pid ${pid} gone after start.ts died`, () => !isAlive(pid), 20_000).catch((error: Error) => {
          throw new Error(`${error.message}: ${describeProcess(pid)}; start.ts printed, to the end:\n${started.output().slice(-3000)}`);
        });
      }
      console.log(`supervision: every process gone ${((Date.now() - killedAt) / 1000).toFixed(1)} s after start.ts was killed`);
      expect(await portAnswers(Number(env.GATEWAY_PORT))).toBe(false);
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
    } finally {
      await kill(started);
    }
  }, 180_000);
});
