import type { Logger } from '@tiergraph/runtime';
import type Stripe from 'stripe';
import type { z } from 'zod';
import type { WebhookStore } from '../webhook-store';

/** The event being processed, as the handlers see it. */
export interface WebhookEvent {
  id: string;
  type: string;
  /** The event's `created`: when it happened at Stripe (orders events about one subscription). */
  time: Date;
}

/** What a handler works with inside the event's transaction. */
export interface WebhookContext {
  event: WebhookEvent;
  store: WebhookStore;
  logger: Logger;
}

/** A handler bound to its event's object, ready to run in the transaction; returns the outcome recorded with the event. */
export type BoundHandler = (context: WebhookContext) => Promise<string>;

export type ParsedObject = { ok: true; load: (stripe: Stripe | null) => Promise<BoundHandler> } | { ok: false; error: string };

/** One handler per event type: how its object must look, what it loads from Stripe first, and what it applies. */
export interface WebhookHandler {
  parse(object: unknown): ParsedObject;
}

export function defineHandler<T, Loaded = null>(spec: {
  object: z.ZodType<T, z.ZodTypeDef, unknown>;
  /** Outside the transaction (a network call must not hold the subscription's lock): what to read from Stripe. */
  load?: (object: T, stripe: Stripe | null) => Promise<Loaded>;
  apply: (context: WebhookContext, object: T, loaded: Loaded | null) => Promise<string>;
}): WebhookHandler {
  return {
    parse(raw) {
      const parsed = spec.object.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return { ok: false, error: `${issue.path.join('.') || 'object'}: ${issue.message}` };
      }
      const object = parsed.data;
      return {
        ok: true,
        load: async (stripe) => {
          const loaded = spec.load ? await spec.load(object, stripe) : null;
          return (context) => spec.apply(context, object, loaded);
        },
      };
    },
  };
}

/** The reason written on history entries a Stripe event caused. */
export const reasonOf = (event: WebhookEvent) => `stripe ${event.type} ${event.id}`;
