import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import { parse, validate, type OperationDefinitionNode } from 'graphql';
import { composeSupergraph, SUPERGRAPH_PATH } from '../lib/compose';

const CONTRACT = join(__dirname, '..', '..', '..', 'shared', 'contract', 'operations.graphql');

/** The contract operations whose features have landed; later issues add theirs. */
const LANDED_OPERATIONS = ['CreatePlatform', 'CreateMerchant', 'CreateStore', 'SetStoreActive', 'AddStoreUser', 'DeactivateStoreUser', 'MerchantUsers'];

describe('composition', () => {
  const composition = composeSupergraph();

  it('composes all six subgraphs without errors or hints', () => {
    expect(composition.errors).toEqual([]);
    expect(composition.hints).toEqual([]);
    for (const name of ['billing', 'tenancy', 'catalog', 'orders', 'media', 'monitoring']) {
      expect(composition.supergraphSdl).toMatch(new RegExp(`join__Graph[^}]*${name.toUpperCase()} @join__graph\\(name: "${name}"`, 's'));
    }
  });

  it('matches the committed schema/supergraph.graphql (run `pnpm compose` when this fails)', () => {
    expect(existsSync(SUPERGRAPH_PATH)).toBe(true);
    expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toBe(composition.supergraphSdl);
  });

  it('validates the landed contract operations against the committed supergraph', () => {
    const schema = Supergraph.build(readFileSync(SUPERGRAPH_PATH, 'utf8')).apiSchema().toGraphQLJSSchema();
    const contract = parse(readFileSync(CONTRACT, 'utf8'));
    const operations = new Map(
      contract.definitions
        .filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && !!d.name)
        .map((d) => [d.name!.value, d]),
    );
    const problems = LANDED_OPERATIONS.flatMap((name) => {
      const operation = operations.get(name);
      if (!operation) return [`${name}: not in the contract`];
      return validate(schema, { kind: 'Document' as never, definitions: [operation] }).map((e) => `${name}: ${e.message}`);
    });
    expect(problems).toEqual([]);
  });
});
