import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import type { Logger } from './logger';
import { ALL_TAGS, changedTags, tag } from './response-tags';

/** The channel every cache of effective limits listens on; billing notifies it in the changing transaction. */
export const ENTITLEMENTS_CHANNEL = 'tiergraph_entitlements';

/** What changed: one merchant on one platform, or everything (a tier's limits, the feature catalog). */
export type EntitlementChange = { merchantId: string; platformId: string } | { all: true };

/** A notification's payload on ENTITLEMENTS_CHANNEL; an unreadable one counts as a change of everything. */
export function parseEntitlementChange(payload: string | undefined): EntitlementChange {
  try {
    return JSON.parse(payload ?? '{"all":true}') as EntitlementChange;
  } catch {
    return { all: true };
  }
}

/** The response-cache tag an entitlement change touches (response-tags.ts): its pair, or everything. */
export function entitlementChangeTag(change: EntitlementChange): string {
  return 'all' in change ? ALL_TAGS : tag.merchantPlatform(change);
}

/** Queues a notification that PostgreSQL delivers to every listener when (and only if) the transaction commits. */
export async function notifyEntitlementsChanged(manager: EntityManager, change: EntitlementChange): Promise<void> {
  // the gateway's response cache listens on this channel too; this request's answer names the same change
  changedTags(entitlementChangeTag(change));
  await manager.query('SELECT pg_notify($1, $2)', [ENTITLEMENTS_CHANNEL, JSON.stringify(change)]);
}

export interface ChangeListener {
  close(): Promise<void>;
}

/**
 * LISTENs on a channel with a dedicated connection. When the connection drops, notifications may have been
 * missed: `onChange({ all: true })` is called at once (so caches stop trusting themselves) and again after
 * reconnecting; `onConnectionChange` says whether the listener is live.
 */
export async function listenForEntitlementChanges(options: {
  databaseUrl: string;
  logger: Logger;
  onChange: (change: EntitlementChange) => void;
  onConnectionChange?: (live: boolean) => void;
}): Promise<ChangeListener> {
  return listenOnChannels({
    databaseUrl: options.databaseUrl,
    logger: options.logger,
    channels: [ENTITLEMENTS_CHANNEL],
    onNotification: (_channel, payload) => options.onChange(parseEntitlementChange(payload)),
    onConnectionChange: (live) => {
      // lost: everything may have been missed; back: everything missed meanwhile
      if (!live) options.onConnectionChange?.(false);
      options.onChange({ all: true });
      if (live) options.onConnectionChange?.(true);
    },
  });
}

/** How often a listening connection proves it is alive, and how long the proof may take before it counts as lost. */
const HEARTBEAT_MS = 10_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;

/**
 * LISTENs on `channels` with one dedicated connection that reconnects (500 ms after a loss, then every second).
 * `onConnectionChange(false)` is called the moment the connection is lost (what was notified meanwhile is missed:
 * callers drop what they cached), `onConnectionChange(true)` once it listens again. A connection that stops answering
 * the heartbeat (HEARTBEAT_MS, HEARTBEAT_TIMEOUT_MS) counts as lost too. The first connect at start fails the call
 * instead of retrying.
 */
export async function listenOnChannels(options: {
  databaseUrl: string;
  logger: Logger;
  channels: string[];
  onNotification: (channel: string, payload: string | undefined) => void;
  onConnectionChange?: (live: boolean) => void;
  applicationName?: string;
  /** The heartbeat's period and patience (defaults HEARTBEAT_MS, HEARTBEAT_TIMEOUT_MS; shorter in tests). */
  heartbeat?: { everyMs: number; timeoutMs: number };
}): Promise<ChangeListener> {
  const beat = options.heartbeat ?? { everyMs: HEARTBEAT_MS, timeoutMs: HEARTBEAT_TIMEOUT_MS };
  let client: Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  /** `initial`: the first connect at start, whose failure fails the start instead of retrying in the background. */
  const connect = async (initial = false): Promise<void> => {
    // a half-open connection (a failover, a cut without a reset) would look live while notifications are lost: TCP
    // keep-alive from 10 s of silence, and a heartbeat statement that must answer within HEARTBEAT_TIMEOUT_MS
    const next = new Client({
      connectionString: options.databaseUrl,
      application_name: options.applicationName ?? 'tiergraph-entitlements-listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: beat.everyMs,
    });
    next.on('notification', (message) => options.onNotification(message.channel, message.payload));
    const lost = (error?: Error) => {
      if (closed || client !== next) return;
      client = undefined;
      if (heartbeat) clearInterval(heartbeat);
      options.logger.warn({ err: error, channels: options.channels }, 'change listener lost its connection; caches bypassed until it is back');
      options.onConnectionChange?.(false);
      next.end().catch(() => undefined);
      retry = setTimeout(() => void connect().catch(() => undefined), 500);
    };
    next.on('error', lost);
    next.on('end', () => lost());
    try {
      await next.connect();
      for (const channel of options.channels) await next.query(`LISTEN ${channel}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      if (initial) throw error;
      if (!closed) retry = setTimeout(() => void connect().catch(() => undefined), 1000);
      return;
    }
    if (closed) {
      await next.end();
      return;
    }
    client = next;
    heartbeat = setInterval(() => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to the heartbeat within ${beat.timeoutMs} ms`)), beat.timeoutMs);
      });
      Promise.race([next.query('SELECT 1'), late])
        .catch((error: Error) => lost(error))
        .finally(() => clearTimeout(timer));
    }, beat.everyMs);
    heartbeat.unref();
    options.onConnectionChange?.(true);
  };

  await connect(true);
  return {
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      if (heartbeat) clearInterval(heartbeat);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
