import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Operation names come from clients: keep the label set bounded. */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  return OPERATION_NAME.test(name) ? name : 'invalid';
}

export function createGatewayMetrics() {
  const registry = new Registry();
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
          const operation = operationLabel(operationName ?? request.operationName);
          requests.inc({ operation });
          requestDuration.observe({ operation }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };

  return { registry, requests, requestDuration, subgraphFetchDuration, errors, plugin };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
