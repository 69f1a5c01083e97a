import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { z } from 'zod';
import { ErrorCode } from './errors';

/**
 * Gateway-signed subgraph requests (issue 11): the gateway (and a subgraph calling another) sends, with every
 * request, an HMAC-SHA256 of the exact body bytes under SUBGRAPH_HMAC_SECRET. A subgraph that has the secret answers
 * `_entities` only for signed requests, so a direct caller — even one with a valid token — cannot hand it
 * representations of its own making (forged `@requires` usage, say); what the gateway resolved from the contributors
 * is what billing computes with.
 *
 * The idea is Hive Gateway's `hmacSignature`; unlike it, the MAC is over the body as sent (no re-serialisation of
 * query and variables on either side, so nothing canonical to agree on) and travels in a header, not in the body's
 * `extensions`. The header is `sha256=<hex>`, so the algorithm can change without a new header.
 */
export const SIGNATURE_HEADER = 'x-tiergraph-signature';
const PREFIX = 'sha256=';

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

/** The header's value for a body: `sha256=` and the hex HMAC-SHA256 of its bytes (a string is taken as UTF-8). */
export function signatureOf(secret: string, body: string | Buffer): string {
  return PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

/** Signs request bodies for one process (the gateway, a subgraph's internal calls). */
export type RequestSigner = (body: string | Buffer) => string;

export function requestSigner(secret: string): RequestSigner {
  return (body) => signatureOf(secret, body);
}

/** What a request's signature says about it: `missing` (no header), `invalid` (a header that does not match), `valid`. */
export type SignatureVerdict = 'valid' | 'invalid' | 'missing';

/** Where a subgraph keeps a request's verdict on its context (server.ts) for the plugin below. */
export const SIGNATURE_VERDICT = Symbol('tiergraph.signatureVerdict');

/** Checks a request's header against its body bytes, in constant time (for a given length, which is public). */
export function verifySignature(secret: string, body: Buffer, header: string | string[] | undefined): SignatureVerdict {
  if (header === undefined) return 'missing';
  if (Array.isArray(header) || !header.startsWith(PREFIX)) return 'invalid';
  const given = Buffer.from(header.slice(PREFIX.length), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  // Buffer.from(…, 'hex') stops at the first non-hex character: compare lengths of what was decoded
  if (given.length !== expected.length || header.length !== PREFIX.length + expected.length * 2) return 'invalid';
  return timingSafeEqual(given, expected) ? 'valid' : 'invalid';
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

const refusal = (message: string, reason: 'signature-missing' | 'signature-invalid') =>
  new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN, reason, http: { status: 403 } } });

/**
 * The subgraph's check, once the operation is known: a request whose signature does not match its body is refused
 * whatever it asks (tampered, or a gateway with another secret: loud, not half-working); an unsigned one only when it
 * selects `_entities` (a direct caller may still use the root fields, which authorise by the token alone).
 */
export function signatureRequirementPlugin<TContext extends BaseContext>(verdictOf: (context: TContext) => SignatureVerdict): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation }) {
          const verdict = verdictOf(contextValue);
          if (verdict === 'valid') return;
          if (verdict === 'invalid') {
            throw refusal(`the request's ${SIGNATURE_HEADER} does not match its body; nothing was done`, 'signature-invalid');
          }
          if (operation && selectsEntities(document, operation)) {
            throw refusal(`_entities is answered only for requests signed by the gateway (${SIGNATURE_HEADER}); send the query to the gateway`, 'signature-missing');
          }
        },
      };
    },
  };
}
