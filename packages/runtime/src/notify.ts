import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import type { Logger } from './logger';

/** The channel every cache of effective limits listens on; billing notifies it in the changing transaction. */
export const ENTITLEMENTS_CHANNEL = 'tiergraph_entitlements';

/** What changed: one merchant on one platform, or everything (a tier's limits, the feature catalog). */
export type EntitlementChange = { merchantId: string; platformId: string } | { all: true };

/** Queues a notification that PostgreSQL delivers to every listener when (and only if) the transaction commits. */
export async function notifyEntitlementsChanged(manager: EntityManager, change: EntitlementChange): Promise<void> {
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
  let client: Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  /** `initial`: the first connect at start, whose failure fails the start instead of retrying in the background. */
  const connect = async (initial = false): Promise<void> => {
    // keepAlive: a half-open connection would look live while notifications are lost
    const next = new Client({ connectionString: options.databaseUrl, application_name: 'tiergraph-entitlements-listener', keepAlive: true });
    next.on('notification', (message) => {
      try {
        options.onChange(JSON.parse(message.payload ?? '{"all":true}') as EntitlementChange);
      } catch {
        options.onChange({ all: true });
      }
    });
    const lost = (error?: Error) => {
      if (closed || client !== next) return;
      client = undefined;
      options.logger.warn({ err: error }, 'entitlement listener lost its connection; caches bypassed until it is back');
      options.onConnectionChange?.(false);
      options.onChange({ all: true });
      next.end().catch(() => undefined);
      retry = setTimeout(() => void connect().catch(() => undefined), 500);
    };
    next.on('error', lost);
    next.on('end', () => lost());
    try {
      await next.connect();
      await next.query(`LISTEN ${ENTITLEMENTS_CHANNEL}`);
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
    options.onChange({ all: true });
    options.onConnectionChange?.(true);
  };

  await connect(true);
  return {
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
