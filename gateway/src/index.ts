export { gatewayEnvSchema, parseGatewayEnv, subgraphUrls, type GatewayEnv } from './env';
export { healthUrlOf, startGateway, type GatewayOptions, type RunningGateway } from './server';
export { operationLabel } from './metrics';
