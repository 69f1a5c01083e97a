import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayEnvSchema } from '@tiergraph/gateway';
import { SIGNATURE_HEADER, subgraphEnvSchema } from '@tiergraph/runtime';
import { billingEnvSchema } from '../../subgraphs/billing/src/env';
import { mediaOwnEnvSchema } from '../../subgraphs/media/src/env';
import { monitoringOwnEnvSchema } from '../../subgraphs/monitoring/src/env';
import type { z } from 'zod';

const repoRoot = join(__dirname, '..', '..');
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
/** The README's configuration table: its first column's variables, row by row. */
const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
const rows = section.split('\n').filter((line) => line.startsWith('| `'));
const documented = new Set(rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1])));
/** `BILLING_URL` … `MONITORING_URL` (and the ports) stand for all six subgraphs. */
const RANGED = /^(BILLING|TENANCY|CATALOG|ORDERS|MEDIA|MONITORING)_(URL|PORT)$/;

/** The keys of a zod object behind refinements and transforms. */
function keysOf(schema: z.ZodTypeAny): string[] {
  let inner: any = schema;
  while (!inner.shape && !inner._def.left) inner = inner._def.schema ?? inner._def.innerType;
  // an intersection (billing: shared variables and its own) has the keys of both sides
  if (inner._def.left) return [...keysOf(inner._def.left), ...keysOf(inner._def.right)];
  return Object.keys(inner.shape);
}

describe('README configuration table', () => {
  it("documents every variable of the gateway's and the subgraphs' environments", () => {
    const variables = new Set([
      ...keysOf(gatewayEnvSchema),
      ...keysOf(subgraphEnvSchema('billing')),
      ...keysOf(billingEnvSchema),
      ...keysOf(mediaOwnEnvSchema),
      ...keysOf(monitoringOwnEnvSchema),
    ]);
    const missing = [...variables].filter((name) => !documented.has(name) && !(RANGED.test(name) && documented.has(name.replace(RANGED, 'BILLING_$2'))));
    expect(missing).toEqual([]);
  });

  it('documents SUBGRAPH_HMAC_SECRET: who uses it, the header, what is refused, production and pnpm start', () => {
    const row = rows.find((r) => r.startsWith('| `SUBGRAPH_HMAC_SECRET`'));
    expect(row).toBeDefined();
    for (const part of ['gateway', 'subgraphs', SIGNATURE_HEADER, '_entities', 'FORBIDDEN', 'NODE_ENV=production', 'pnpm start', 'docker-compose.yml']) {
      expect({ part, found: row!.includes(part) }).toEqual({ part, found: true });
    }
  });
});
