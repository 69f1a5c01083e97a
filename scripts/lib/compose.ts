import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { DEFAULT_PORTS, type SubgraphName } from '@tiergraph/runtime';
import { parse } from 'graphql';
import { subgraphs } from './subgraphs';

export const SUPERGRAPH_PATH = join(__dirname, '..', '..', 'schema', 'supergraph.graphql');

export interface Composition {
  supergraphSdl?: string;
  errors: string[];
  hints: string[];
}

/**
 * Composes every subgraph's schema.graphql with @apollo/composition. The URLs written into the supergraph
 * are the contract's local defaults; the gateway overrides them with its `<NAME>_URL` variables.
 */
export function composeSupergraph(): Composition {
  const services = (Object.keys(subgraphs) as SubgraphName[]).map((name) => ({
    name,
    url: `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`,
    typeDefs: parse(readFileSync(join(__dirname, '..', '..', 'subgraphs', name, 'schema.graphql'), 'utf8')),
  }));
  const result = composeServices(services);
  if (result.errors) return { errors: result.errors.map((e) => e.message), hints: [] };
  return {
    supergraphSdl: `${result.supergraphSdl.trimEnd()}\n`,
    errors: [],
    hints: result.hints.map((h) => `${h.definition.code}: ${h.message}`),
  };
}
