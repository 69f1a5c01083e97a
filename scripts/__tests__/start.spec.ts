import net from 'node:net';
import { postGraphQL, tokenFor } from '@tiergraph/testkit';
import { freshEnv, killAll, portAnswers, SERVICES, waitFor, withSystem } from './system';

const SUBGRAPHS = SERVICES.filter((name) => name !== 'gateway');

/** Which markers the output lacks, and which appear before the marker listed ahead of them. */
function markerOrder(output: string, markers: RegExp[]): { missing: string[]; outOfOrder: string[] } {
  const positions = markers.map((marker) => output.search(marker));
  return {
    missing: markers.filter((_, i) => positions[i] < 0).map(String),
    outOfOrder: markers.filter((_, i) => i > 0 && positions[i] >= 0 && positions[i] < Math.max(...positions.slice(0, i))).map(String),
  };
}

afterAll(killAll);

describe('pnpm start (embedded default)', () => {
  it('gets healthy (subgraphs first, then the gateway), serves the graph, stops cleanly on SIGTERM and keeps its data across restarts', async () => {
    const env = await freshEnv();
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    const admin = await tokenFor({ role: 'admin' });

    await withSystem(env, async (first) => {
      const [, seconds] = await waitFor(first, /tiergraph is healthy after ([\d.]+) s/, 60_000);
      // how long is a benchmark's question (bench/), not an assertion here: print it
      console.log(`pnpm start: healthy after ${seconds} s`);
      // the gateway starts only once every subgraph is healthy: every marker present, in this order
      expect(markerOrder(first.output(), [
        ...SUBGRAPHS.map((name) => new RegExp(`\\[start\\]\\s+${name} started \\(pid \\d+\\)`)),
        /\[start\]\s+subgraphs healthy; starting gateway/,
        /\[start\]\s+gateway started \(pid \d+\)/,
        /\[start\]\s+tiergraph is healthy after/,
      ])).toEqual({ missing: [], outOfOrder: [] });
      expect((await fetch(`${gateway}/health`)).status).toBe(200);
      const created = await postGraphQL(
        `${gateway}/graphql`,
        { query: 'mutation { createPlatform(input: { code: "persisted", name: "P" }) { code } }' },
        { token: admin },
      );
      // (answered at all: the gateway and tenancy were handed the same SUBGRAPH_HMAC_SECRET, a mismatch is refused)
      expect(created.data).toEqual({ createPlatform: { code: 'persisted' } });
      // start.ts generated a secret: billing answers _entities sent straight to it, without the gateway's signature, with 403
      const direct = await postGraphQL(
        `http://127.0.0.1:${env.BILLING_PORT}/graphql`,
        { query: 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', variables: { r: [{ __typename: 'Merchant', id: '00000000-0000-4000-8000-000000000001' }] } },
        { token: admin, signed: false },
      );
      expect([direct.status, direct.errors?.map((e) => e.extensions?.reason)]).toEqual([403, ['signature-missing']]);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('embedded PostgreSQL stopped');
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
      expect(await portAnswers(Number(env.GATEWAY_PORT))).toBe(false);
      expect(await portAnswers(Number(env.BILLING_PORT))).toBe(false);
    });

    await withSystem(env, async (second) => {
      await waitFor(second, /tiergraph is healthy/, 60_000);
      const platforms = await postGraphQL(`${gateway}/graphql`, { query: '{ platforms { code } }' }, { token: admin });
      expect(platforms.data).toEqual({ platforms: [{ code: 'persisted' }] });
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
    });
  }, 150_000);

  it('stops the embedded PostgreSQL when SIGTERM arrives while it is still starting', async () => {
    const env = await freshEnv();
    await withSystem(env, async (started) => {
      await waitFor(started, /starting embedded PostgreSQL/, 30_000);
      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
      expect(started.output()).toContain('embedded PostgreSQL stopped');
      expect(started.output()).not.toContain('tiergraph is healthy');
      expect(started.output()).not.toMatch(/\w+ started \(pid \d+\)/);
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
      // and nothing comes up later (no orphaned server finishing its start)
      await new Promise((r) => setTimeout(r, 1000));
      expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
    });
  }, 90_000);

  it('fails with a clear message, starting nothing, when a port is taken', async () => {
    const env = await freshEnv();
    const blocker = net.createServer().listen(Number(env.TENANCY_PORT), '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      await withSystem(env, async (started) => {
        expect(await started.exited).toBe(1);
        expect(started.output()).toContain(`port ${env.TENANCY_PORT} (TENANCY_PORT) is already in use`);
        expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false);
      });
    } finally {
      blocker.close();
    }
  });

  it('refuses the development secret with NODE_ENV=production, naming the variable', async () => {
    await withSystem({ ...(await freshEnv()), NODE_ENV: 'production', AUTH_JWT_SECRET: 'dev-only-secret-change-me' }, async (started) => {
      expect(await started.exited).toBe(1);
      expect(started.output()).toMatch(/AUTH_JWT_SECRET: the development default secret cannot be used with NODE_ENV=production/);
    });
  });
});
