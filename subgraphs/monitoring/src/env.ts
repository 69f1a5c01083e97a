import { DEFAULT_PORTS, EnvError, EnvProblems, orExitOnEnvError, parseEnv, portSchema, subgraphEnvSchema, type SubgraphEnv } from '@tiergraph/runtime';
import { z } from 'zod';
import { DEFAULT_CAPACITY_CONFIG_PATH, readCapacityConfig, type CapacityConfig } from './capacity/capacity-config';

/** The monitoring process's environment: the shared subgraph variables (README, Configuration). */
export const monitoringEnvSchema = subgraphEnvSchema('monitoring');

/**
 * Monitoring's own variables: where it reaches the gateway (platform figures with a service token, and the
 * gateway's /metrics for latency and errors) and which capacity configuration it uses.
 */
export const monitoringOwnEnvSchema = z
  .object({
    GATEWAY_PORT: portSchema(DEFAULT_PORTS.gateway),
    GATEWAY_URL: z.string().url().optional(),
    GATEWAY_METRICS_URL: z.string().url().optional(),
    PLATFORM_FIGURES_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    CAPACITY_CONFIG_PATH: z.string().min(1).default(DEFAULT_CAPACITY_CONFIG_PATH),
  })
  .transform((env) => {
    const graphqlUrl = env.GATEWAY_URL ?? `http://127.0.0.1:${env.GATEWAY_PORT}/graphql`;
    const metricsUrl = env.GATEWAY_METRICS_URL ?? new URL('/metrics', graphqlUrl).toString();
    return { gateway: { graphqlUrl, metricsUrl, timeoutMs: env.PLATFORM_FIGURES_TIMEOUT_MS }, configPath: env.CAPACITY_CONFIG_PATH };
  });

export interface MonitoringEnv {
  env: SubgraphEnv;
  gateway: { graphqlUrl: string; metricsUrl: string; timeoutMs: number };
  capacity: CapacityConfig;
}

/** Parses monitoring's whole environment and its capacity file: every problem of the three reported in one EnvError. */
export function parseMonitoringEnv(source: NodeJS.ProcessEnv): MonitoringEnv {
  const problems = new EnvProblems();
  const env = problems.attempt(() => parseEnv(monitoringEnvSchema, source));
  const own = problems.attempt(() => parseEnv(monitoringOwnEnvSchema, source));
  const file = own ? readCapacityConfig(own.configPath) : undefined;
  if (file) problems.add(...file.problems);
  problems.throwIfAny();
  if (!env || !own || !file?.config) throw new EnvError(problems.problems);
  return { env, gateway: own.gateway, capacity: file.config };
}

/** Parses process.env once at start; every problem is reported and the process exits non-zero. */
export function loadEnv(): MonitoringEnv {
  return orExitOnEnvError(() => parseMonitoringEnv(process.env));
}
