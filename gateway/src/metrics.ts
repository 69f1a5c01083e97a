import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Operation names come from clients: keep the label values well-formed (see createOperationLabeler for the count). */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  return OPERATION_NAME.test(name) ? name : 'invalid';
}

/** How many distinct operation names get a label value of their own; later names are counted as `other`. */
export const MAX_OPERATION_LABELS = 200;

/**
 * The `operation` label of a request: the first `limit` distinct valid names keep their own value, every later
 * one is `other`, so a client sending ever new names cannot grow the metric set without bound.
 */
export function createOperationLabeler(limit = MAX_OPERATION_LABELS): (name: string | null | undefined) => string {
  const known = new Set<string>();
  return (name) => {
    const label = operationLabel(name);
    if (label !== name || known.has(label)) return label; // anonymous / invalid, or already counted
    if (known.size >= limit) return 'other';
    known.add(label);
    return label;
  };
}

export interface GatewayMetricsOptions {
  /** Distinct operation names with a label value of their own (default MAX_OPERATION_LABELS). */
  maxOperationLabels?: number;
}

export function createGatewayMetrics(options: GatewayMetricsOptions = {}) {
  const registry = new Registry();
  const labelOf = createOperationLabeler(options.maxOperationLabels);
  collectDefaultMetrics({ register: registry, prefix: 'tiergraph_gateway_' });
  const requests = new Counter({
    name: 'tiergraph_gateway_requests_total',
    help: 'GraphQL requests by operation name',
    labelNames: ['operation'],
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'tiergraph_gateway_request_duration_seconds',
    help: 'GraphQL request latency by operation name',
    labelNames: ['operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const subgraphFetchDuration = new Histogram({
    name: 'tiergraph_gateway_subgraph_fetch_duration_seconds',
    help: 'Latency of fetches from the gateway to each subgraph',
    labelNames: ['subgraph'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'tiergraph_gateway_errors_total',
    help: 'Errors sent to clients by extensions.code',
    labelNames: ['code'],
    registers: [registry],
  });

  const plugin: ApolloServerPlugin = {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operationName, request }) {
          const operation = labelOf(operationName ?? request.operationName);
          requests.inc({ operation });
          requestDuration.observe({ operation }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };

  return { registry, requests, requestDuration, subgraphFetchDuration, errors, plugin };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
