import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvError } from '@tiergraph/runtime';
import { defaultCapacityConfig } from './capacity/capacity-config';
import { parseMonitoringEnv } from './env';

const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/tiergraph' };

describe("monitoring's environment", () => {
  it('reaches the gateway on GATEWAY_PORT and uses the shipped capacity file by default', () => {
    const { gateway, capacity, env } = parseMonitoringEnv({ ...base, GATEWAY_PORT: '4100' });
    expect(gateway).toEqual({ graphqlUrl: 'http://127.0.0.1:4100/graphql', metricsUrl: 'http://127.0.0.1:4100/metrics', timeoutMs: 10_000 });
    expect(capacity).toEqual(defaultCapacityConfig());
    expect(env.PORT).toBe(4006);
    expect(parseMonitoringEnv({ ...base, GATEWAY_URL: 'http://gateway:4000/graphql' }).gateway.metricsUrl).toBe('http://gateway:4000/metrics');
  });

  it('reports every problem of the variables and of the capacity file at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'capacity-'));
    const path = join(dir, 'capacity.json');
    const broken = defaultCapacityConfig();
    writeFileSync(path, JSON.stringify({ ...broken, thresholds: { ...broken.thresholds, db_size_gb: { warning: 30, critical: 24 } }, forecastWindowDays: 1 }));
    let error: unknown;
    try {
      parseMonitoringEnv({ ...base, MONITORING_PORT: 'x', GATEWAY_URL: 'not a url', CAPACITY_CONFIG_PATH: path });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    const problems = (error as EnvError).problems;
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining('MONITORING_PORT'), expect.stringContaining('GATEWAY_URL')]));
    // the file is read once the variables that name it parse
    const fileProblems = (() => {
      try {
        parseMonitoringEnv({ ...base, MONITORING_PORT: 'x', CAPACITY_CONFIG_PATH: path });
      } catch (e) {
        return (e as EnvError).problems;
      }
      return [];
    })();
    expect(fileProblems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('MONITORING_PORT'),
        expect.stringContaining('thresholds.db_size_gb: warning must be below critical'),
        expect.stringContaining('forecastWindowDays'),
      ]),
    );
    expect(() => parseMonitoringEnv({ ...base, CAPACITY_CONFIG_PATH: join(dir, 'missing.json') })).toThrow(/cannot be read as JSON/);
  });
});
