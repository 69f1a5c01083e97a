import { createServer, connect, type Server, type Socket } from 'node:net';
import { createTestDatabase, silentLogger, type TestDatabase } from '@tiergraph/testkit';
import { Client } from 'pg';
import { listenOnChannels, type ChangeListener } from './notify';

/**
 * A LISTEN connection that goes silent without closing (a failover, a network cut without a reset) must count as
 * lost, or the caches that trust it keep serving what its missed notifications would have evicted.
 */
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

/** A TCP proxy to PostgreSQL that can stop passing bytes while keeping both sockets open. */
async function silentableProxy(target: URL): Promise<{ url: string; silence: () => void; close: () => Promise<void> }> {
  let silent = false;
  const sockets: Socket[] = [];
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 5432), target.hostname);
    sockets.push(inbound, outbound);
    inbound.on('data', (chunk) => silent || outbound.write(chunk));
    outbound.on('data', (chunk) => silent || inbound.write(chunk));
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target.toString());
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    silence: () => (silent = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('listenOnChannels', () => {
  it('delivers notifications, and counts a connection that stops answering its heartbeat as lost', async () => {
    const proxy = await silentableProxy(new URL(database.url));
    const changes: boolean[] = [];
    const payloads: Array<string | undefined> = [];
    let listener: ChangeListener | undefined;
    try {
      listener = await listenOnChannels({
        databaseUrl: proxy.url,
        logger: silentLogger,
        channels: ['heartbeat_test'],
        onNotification: (_channel, payload) => payloads.push(payload),
        onConnectionChange: (live) => changes.push(live),
        heartbeat: { everyMs: 200, timeoutMs: 300 },
      });
      expect(changes).toEqual([true]);
      const writer = new Client({ connectionString: database.url });
      await writer.connect();
      await writer.query(`SELECT pg_notify('heartbeat_test', 'one')`);
      await writer.end();
      await waitFor(() => payloads.length === 1);
      expect(payloads).toEqual(['one']);

      // the socket stays open but nothing comes back: only the heartbeat can tell
      proxy.silence();
      await waitFor(() => changes.length === 2);
      expect(changes).toEqual([true, false]);
    } finally {
      await listener?.close();
      await proxy.close();
    }
  }, 20_000);
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('the condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
