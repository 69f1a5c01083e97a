import { gatewayFiguresOf } from '../capacity/gateway-metrics';
import type { GatewayFigures } from '../capacity/health';

export interface GatewayFiguresSource {
  figures(): Promise<GatewayFigures>;
}

const UNKNOWN: GatewayFigures = { p95Ms: null, errorRatePercent: null };

/** The gateway's latency and error figures from its Prometheus /metrics; unknown (not an error) when it cannot be read. */
export class GatewayMetricsClient implements GatewayFiguresSource {
  constructor(
    private readonly metricsUrl: () => string,
    private readonly timeoutMs = 3000,
  ) {}

  async figures(): Promise<GatewayFigures> {
    try {
      const response = await fetch(this.metricsUrl(), { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!response.ok) return UNKNOWN;
      return gatewayFiguresOf(await response.text());
    } catch {
      return UNKNOWN;
    }
  }
}
