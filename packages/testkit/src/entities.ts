import { errorCodes, postGraphQL, tokenFor } from './client';

/**
 * What one representation, sent straight to a subgraph's `_entities` as a caller could send it (bypassing the
 * gateway), gives each caller: 'ok' when the entity resolved without an error, else the error codes joined
 * by ',', with '+data' appended when an error still came with the entity's data (a leak).
 */
export async function entityOutcomes(
  url: string,
  selection: string,
  representation: Record<string, unknown>,
  tokens: Record<string, string>,
): Promise<Record<string, string>> {
  const query = `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`;
  const outcomes: Record<string, string> = {};
  for (const [caller, token] of Object.entries(tokens)) {
    const response = await postGraphQL(url, { query, variables: { r: [representation] } }, { token });
    const entity = response.data?._entities?.[0] ?? null;
    // the representation's own keys come back as sent: anything else that is not null or empty is the tenant's data
    const leaked =
      entity !== null &&
      Object.entries(entity).some(([field, v]) => !(field in representation && representation[field] === v) && v !== null && !(Array.isArray(v) && v.length === 0));
    if (!response.errors?.length) outcomes[caller] = entity === null ? 'null' : 'ok';
    else outcomes[caller] = errorCodes(response).join(',') + (leaked ? '+data' : '');
  }
  return outcomes;
}

/** Table-driven: every case's outcomes, so one `toEqual` shows every caller against every entity at once. */
export async function entityAccessTable(
  url: string,
  cases: Record<string, { selection: string; representation: Record<string, unknown> }>,
  tokens: Record<string, string>,
): Promise<Record<string, Record<string, string>>> {
  const table: Record<string, Record<string, string>> = {};
  for (const [name, { selection, representation }] of Object.entries(cases)) table[name] = await entityOutcomes(url, selection, representation, tokens);
  return table;
}

/** Who may read a subgraph's PlatformMetrics contribution: admins and services; tenants FORBIDDEN; only the one id. */
export const PLATFORM_METRICS_ACCESS = { admin: 'ok', service: 'ok', merchant: 'FORBIDDEN', store: 'FORBIDDEN', 'unknown id': 'NOT_FOUND' };

/**
 * A contributor's PlatformMetrics fields (`selection`, without the inline fragment) straight from its `_entities`:
 * the outcome for each kind of caller (compare with PLATFORM_METRICS_ACCESS) and the figures an admin gets. The
 * tenant tokens are a real merchant's and a real store's (createTenants): a store token for a store tenancy does not
 * know is refused before any resolver runs.
 */
export async function platformMetricsOf(
  url: string,
  selection: string,
  tenants: { merchant: string; store: string },
): Promise<{ access: Record<string, string>; figures: Record<string, unknown> | null }> {
  const fragment = `... on PlatformMetrics { id ${selection} }`;
  const tokens = {
    admin: await tokenFor({ role: 'admin' }),
    service: await tokenFor({ role: 'service' }),
    merchant: tenants.merchant,
    store: tenants.store,
  };
  const access = await entityOutcomes(url, fragment, { __typename: 'PlatformMetrics', id: 'platform' }, tokens);
  const unknown = await entityOutcomes(url, fragment, { __typename: 'PlatformMetrics', id: 'store-1' }, { 'unknown id': tokens.admin });
  const response = await postGraphQL(
    url,
    { query: `query($r: [_Any!]!) { _entities(representations: $r) { ${fragment} } }`, variables: { r: [{ __typename: 'PlatformMetrics', id: 'platform' }] } },
    { token: tokens.admin },
  );
  return { access: { ...access, ...unknown }, figures: response.data?._entities?.[0] ?? null };
}
