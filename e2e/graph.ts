import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayEnvSchema, startGateway, type RunningGateway } from '@tiergraph/gateway';
import { createMonitoringSubgraph } from '@tiergraph/monitoring';
import { SUBGRAPH_NAMES, type RunningSubgraph, type SubgraphName } from '@tiergraph/runtime';
import { createTestDatabase, postGraphQL, silentLogger, startTestSubgraphs, TEST_JWT_SECRET, TEST_SUBGRAPH_HMAC_SECRET, type GraphQLResponse, type TestDatabase } from '@tiergraph/testkit';
import { parse, print, type OperationDefinitionNode } from 'graphql';
import { subgraphs } from '../scripts/lib/subgraphs';

export interface TestGraph {
  db: TestDatabase;
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  gateway: RunningGateway;
  /** The gateway's base URL (no path). */
  origin: string;
  stop(): Promise<void>;
}

export function testGatewayEnv(overrides: Record<string, string> = {}) {
  // signed as under `pnpm start`: the subgraphs of startTestSubgraphs answer _entities only to signed requests
  return gatewayEnvSchema.parse({ AUTH_JWT_SECRET: TEST_JWT_SECRET, SUBGRAPH_HMAC_SECRET: TEST_SUBGRAPH_HMAC_SECRET, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...overrides });
}

export function startTestGateway(urls: Record<SubgraphName, string>, overrides: Record<string, string> = {}): Promise<RunningGateway> {
  return startGateway({ env: testGatewayEnv(overrides), logger: silentLogger, port: 0, host: '127.0.0.1', subgraphUrls: urls });
}

/**
 * The whole graph as real HTTP servers: six subgraphs on one fresh database, and the gateway in front.
 * `replace` swaps in differently configured definitions (billing with Stripe, say); `gatewayEnv` sets gateway
 * variables (CORS_ORIGINS, say), or a function of the database (DATABASE_URL for the response cache's LISTEN).
 */
export async function startTestGraph(
  replace: Partial<typeof subgraphs> = {},
  gatewayEnv: Record<string, string> | ((db: TestDatabase) => Record<string, string>) = {},
): Promise<TestGraph> {
  const db = await createTestDatabase();
  let running = {} as Record<SubgraphName, RunningSubgraph>;
  // monitoring gathers the platform's figures through this graph's gateway, whose port is known once it started
  let gateway: RunningGateway | undefined;
  const monitoring = createMonitoringSubgraph({
    gateway: { graphqlUrl: () => gateway!.url, metricsUrl: () => `http://127.0.0.1:${gateway!.port}/metrics` },
  }) as unknown as (typeof subgraphs)['monitoring'];
  try {
    running = await startTestSubgraphs({ ...subgraphs, monitoring, ...replace }, db.url);
    const started = await startTestGateway(
      Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, running[n].url])) as Record<SubgraphName, string>,
      typeof gatewayEnv === 'function' ? gatewayEnv(db) : gatewayEnv,
    );
    gateway = started;
    return {
      db,
      subgraphs: running,
      gateway: started,
      origin: `http://127.0.0.1:${started.port}`,
      stop: async () => {
        await started.stop();
        await Promise.all(Object.values(running).map((s) => s.stop()));
        await db.drop();
      },
    };
  } catch (error) {
    await Promise.all(Object.values(running).map((s) => s.stop()));
    await db.drop();
    throw error;
  }
}

/** The published client contract, beside the repository in `../shared/contract/`. */
export const CONTRACT_OPERATIONS_PATH = join(__dirname, '..', '..', 'shared', 'contract', 'operations.graphql');

const contract = parse(readFileSync(CONTRACT_OPERATIONS_PATH, 'utf8'));

/** One operation of the contract, exactly as clients send it. */
export function contractOperation(name: string): string {
  const operation = contract.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && d.name?.value === name,
  );
  if (!operation) throw new Error(`the contract has no operation ${name}`);
  return print(operation);
}

export function contractOperationNames(): string[] {
  return contract.definitions.flatMap((d) => (d.kind === 'OperationDefinition' && d.name ? [d.name.value] : []));
}

/**
 * The contract's operations through a test graph's gateway, exactly as clients send them, with the admin token unless
 * told otherwise: `send` answers the response, `ok` its data (and throws on any error). Getters, as the graph and the
 * token are made in a beforeAll.
 */
export function contractCaller(graph: () => TestGraph, admin: () => string) {
  const send = (operationName: string, variables: Record<string, unknown>, token: string = admin()): Promise<GraphQLResponse> =>
    postGraphQL(graph().gateway.url, { query: contractOperation(operationName), variables, operationName }, { token });
  const ok = async (operationName: string, variables: Record<string, unknown>, token?: string): Promise<any> => {
    const response = await send(operationName, variables, token);
    if (response.errors?.length) throw new Error(`${operationName}: ${JSON.stringify(response.errors)}`);
    return response.data;
  };
  return { send, ok };
}
