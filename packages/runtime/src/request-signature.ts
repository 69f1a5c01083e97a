import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { z } from 'zod';
import { ErrorCode } from './errors';

/**
 * Gateway-signed subgraph requests (issue 11): the gateway (and a subgraph calling another) sends, with every
 * request, an HMAC-SHA256 under SUBGRAPH_HMAC_SECRET of a timestamp, the request's Authorization header and the exact
 * body bytes. A subgraph that has the secret answers `_entities` only for signed requests, so a direct caller — even
 * one with a valid token — cannot hand it representations of its own making (forged `@requires` usage, say); what the
 * gateway resolved from the contributors is what billing computes with. Binding the Authorization header means a
 * captured signed body cannot be sent again with another token; the timestamp, that it cannot be sent again later
 * than SIGNATURE_WINDOW_SECONDS (either way: a clock ahead by as much is tolerated). Within the window, the same
 * request with the same token can be repeated: it is the request that was signed, with its caller's own rights.
 *
 * The idea is Hive Gateway's `hmacSignature`; unlike it, the MAC is over the body as sent (no re-serialisation of
 * query and variables on either side, so nothing canonical to agree on) and travels in a header, not in the body's
 * `extensions`. The header is `t=<unix seconds>,sha256=<hex>`, where the hex is the HMAC of
 * `<t>\n<Authorization or nothing>\n<body bytes>`, so the algorithm can change without a new header.
 */
export const SIGNATURE_HEADER = 'x-tiergraph-signature';
/** How far a signature's timestamp may be from the subgraph's clock, either way, in seconds. */
export const SIGNATURE_WINDOW_SECONDS = 60;
const SIGNED_HEADER = /^t=(\d{1,12}),sha256=([0-9a-f]{64})$/;

/** The secret shared by the gateway and every subgraph: at least 32 characters (`openssl rand -hex 32`). */
export const subgraphSignatureEnvShape = {
  SUBGRAPH_HMAC_SECRET: z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)').optional(),
};

/**
 * Without the secret a subgraph answers `_entities` to anyone with a token (development and tests outside
 * `pnpm start`); in production that is refused at start, like the development JWT secret.
 */
export function requireSignatureSecretInProduction<T extends { NODE_ENV: string; SUBGRAPH_HMAC_SECRET?: string }>(schema: z.ZodType<T, z.ZodTypeDef, unknown>) {
  return schema.superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.SUBGRAPH_HMAC_SECRET) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['SUBGRAPH_HMAC_SECRET'],
        message: 'required with NODE_ENV=production: the gateway signs subgraph requests with it and subgraphs refuse unsigned _entities',
      });
    }
  });
}

/** The HMAC key of a secret, built once per secret (a process has one or two) rather than on every request. */
const keys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
}

function macOf(key: KeyObject, timestamp: number, authorization: string | undefined, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${timestamp}\n${authorization ?? ''}\n`).update(body).digest();
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * The header's value for a request: `t=<unix seconds>,sha256=<hex>` over the timestamp, the Authorization header as
 * sent (undefined: none) and the body's bytes (a string is taken as UTF-8).
 */
export function signatureOf(secret: string, body: string | Buffer, authorization: string | undefined, timestampSeconds = seconds(Date.now())): string {
  return headerOf(keyOf(secret), timestampSeconds, authorization, body);
}

function headerOf(key: KeyObject, timestampSeconds: number, authorization: string | undefined, body: string | Buffer): string {
  return `t=${timestampSeconds},sha256=${macOf(key, timestampSeconds, authorization, body).toString('hex')}`;
}

/** Signs requests for one process (the gateway, a subgraph's internal calls): the body and the Authorization it goes with. */
export type RequestSigner = (body: string | Buffer, authorization: string | undefined) => string;

export function requestSigner(secret: string, now: () => number = Date.now): RequestSigner {
  const key = keyOf(secret); // looked up once, not per request
  return (body, authorization) => headerOf(key, seconds(now()), authorization, body);
}

/**
 * What a request's signature says about it: `missing` (no header), `invalid` (a header that does not match the body
 * and Authorization, or is not one), `expired` (it matches, but was made more than SIGNATURE_WINDOW_SECONDS from
 * now), `valid`.
 */
export type SignatureVerdict = 'valid' | 'invalid' | 'expired' | 'missing';

/** Where a subgraph keeps a request's verdict on its context (server.ts) for the plugin below. */
export const SIGNATURE_VERDICT = Symbol('tiergraph.signatureVerdict');

export type SignatureVerifier = (body: Buffer, authorization: string | undefined, header: string | string[] | undefined) => SignatureVerdict;

/** Checks a request's header against its body bytes and Authorization, in constant time, and its age against the clock. */
export function signatureVerifier(secret: string, now: () => number = Date.now): SignatureVerifier {
  const key = keyOf(secret);
  return (body, authorization, header) => {
    if (header === undefined) return 'missing';
    if (Array.isArray(header)) return 'invalid';
    const match = SIGNED_HEADER.exec(header);
    if (!match) return 'invalid';
    const timestamp = Number(match[1]);
    const given = Buffer.from(match[2], 'hex');
    if (!timingSafeEqual(given, macOf(key, timestamp, authorization, body))) return 'invalid';
    return Math.abs(seconds(now()) - timestamp) > SIGNATURE_WINDOW_SECONDS ? 'expired' : 'valid';
  };
}

/** Whether the operation selects `Query._entities` anywhere at its root, aliased or inside fragments. */
export function selectsEntities(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const seen = new Set<string>();
  const visit = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === '_entities';
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      const name = selection.name.value;
      if (seen.has(name)) return false;
      seen.add(name);
      const fragment = fragments.get(name);
      return !!fragment && visit(fragment.selectionSet);
    });
  return visit(operation.selectionSet);
}

const refusal = (message: string, reason: 'signature-missing' | 'signature-invalid' | 'signature-expired') =>
  new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN, reason, http: { status: 403 } } });

/**
 * The subgraph's check, once the operation is known: a request whose signature does not match its body and
 * Authorization, or is too old, is refused whatever it asks (tampered, replayed, or a gateway with another secret:
 * loud, not half-working); an unsigned one only when it selects `_entities` (a direct caller may still use the root
 * fields, which authorise by the token alone).
 */
export function signatureRequirementPlugin<TContext extends BaseContext>(verdictOf: (context: TContext) => SignatureVerdict): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation }) {
          const verdict = verdictOf(contextValue);
          if (verdict === 'valid') return;
          if (verdict === 'invalid') {
            throw refusal(`the request's ${SIGNATURE_HEADER} does not match its body and Authorization; nothing was done`, 'signature-invalid');
          }
          if (verdict === 'expired') {
            throw refusal(`the request's ${SIGNATURE_HEADER} was made more than ${SIGNATURE_WINDOW_SECONDS} s from now; nothing was done`, 'signature-expired');
          }
          if (operation && selectsEntities(document, operation)) {
            throw refusal(`_entities is answered only for requests signed by the gateway (${SIGNATURE_HEADER}); send the query to the gateway`, 'signature-missing');
          }
        },
      };
    },
  };
}
