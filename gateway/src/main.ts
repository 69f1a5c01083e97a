import { createLogger, stopOnSignals } from '@tiergraph/runtime';
import { parseGatewayEnv, subgraphUrls } from './env';
import { startGateway } from './server';

async function main(): Promise<void> {
  const env = parseGatewayEnv(process.env);
  const logger = createLogger('gateway', env.LOG_LEVEL);
  try {
    const running = await startGateway({ env, logger, port: env.GATEWAY_PORT, host: env.GATEWAY_HOST, subgraphUrls: subgraphUrls(env) });
    stopOnSignals(running.stop, logger);
  } catch (error) {
    logger.fatal({ err: error }, `gateway failed to start: ${(error as Error).message}`);
    process.exit(1);
  }
}

void main();
