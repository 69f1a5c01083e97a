export * from './auth';
export * from './db';
export * from './env';
export * from './errors';
export * from './logger';
export * from './server';
export * from './subgraph-env';
export * from './subgraph';
