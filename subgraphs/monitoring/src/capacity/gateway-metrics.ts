import type { GatewayFigures } from './health';

const DURATION_BUCKET = 'tiergraph_gateway_request_duration_seconds_bucket';
const REQUESTS = 'tiergraph_gateway_requests_total';
const ERRORS = 'tiergraph_gateway_errors_total';

/** `name{labels} value` lines of the Prometheus text format (comments and other metrics skipped). */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const found: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    const value = Number(match[3]);
    if (Number.isFinite(value)) found.push({ labels, value });
  }
  return found;
}

/**
 * The p95 of every request's latency in milliseconds, across operations, from the cumulative histogram buckets
 * (interpolated inside the bucket, as PromQL's histogram_quantile does); null before the first request.
 * The histogram counts since the gateway started: it is the p95 of the gateway's lifetime, not of the last minutes.
 */
export function p95Milliseconds(text: string): number | null {
  const byBound = new Map<number, number>();
  for (const { labels, value } of samples(text, DURATION_BUCKET)) {
    const bound = labels.le === '+Inf' ? Infinity : Number(labels.le);
    if (Number.isNaN(bound)) continue;
    byBound.set(bound, (byBound.get(bound) ?? 0) + value);
  }
  const buckets = [...byBound].sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return null;
  const rank = 0.95 * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      // beyond the last finite bound nothing is known but that it is at least that bound
      if (bound === Infinity) return lowerBound * 1000;
      const share = count === lowerCount ? 0 : (rank - lowerCount) / (count - lowerCount);
      return (lowerBound + (bound - lowerBound) * share) * 1000;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound * 1000;
}

/**
 * Server errors per request in percent: errors the platform caused (INTERNAL_SERVER_ERROR and the *_UNAVAILABLE
 * codes of an unreachable subgraph), not the caller's mistakes (UNAUTHENTICATED, BAD_USER_INPUT, FORBIDDEN …). A
 * request may carry several errors, so it is capped at 100; null before the first request.
 */
export function serverErrorRatePercent(text: string): number | null {
  const requests = samples(text, REQUESTS).reduce((sum, s) => sum + s.value, 0);
  if (!requests) return null;
  const errors = samples(text, ERRORS)
    .filter((s) => s.labels.code === 'INTERNAL_SERVER_ERROR' || /_UNAVAILABLE$/.test(s.labels.code ?? ''))
    .reduce((sum, s) => sum + s.value, 0);
  return Math.min(100, (errors / requests) * 100);
}

export function gatewayFiguresOf(text: string): GatewayFigures {
  return { p95Ms: p95Milliseconds(text), errorRatePercent: serverErrorRatePercent(text) };
}
