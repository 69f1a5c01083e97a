import { BadUserInputError, ForbiddenError, parseInput, requireAdminOrService, type Caller } from '@tiergraph/runtime';
import { z } from 'zod';
import { featureDeclarationsInput } from '../inputs';
import type { DeclarationRegistry, RegisteredFeature } from './declaration-registry';
import type { FeatureCatalogStore } from './feature-catalog-store';

export interface FeatureCatalogDependencies {
  store: FeatureCatalogStore;
  declarations: DeclarationRegistry;
}

/** The feature catalog for one request: what the owners declared, registered only by the owner itself. */
export class FeatureCatalogService {
  constructor(
    private readonly deps: FeatureCatalogDependencies,
    private readonly caller: Caller,
  ) {}

  /** Every code must be one an owner declared: unknown codes are BAD_USER_INPUT on their row. */
  async assertDeclared(codes: string[], field: string): Promise<void> {
    const declared = await this.deps.declarations.byCode();
    codes.forEach((code, i) => {
      if (!declared.has(code)) throw new BadUserInputError(`unknown feature code ${code}`, `${field}.${i}.featureCode`);
    });
  }

  async featureCatalog(): Promise<Array<{ category: string; features: RegisteredFeature[] }>> {
    requireAdminOrService(this.caller);
    const byCategory = new Map<string, RegisteredFeature[]>();
    for (const declaration of await this.deps.declarations.all()) {
      byCategory.set(declaration.category, [...(byCategory.get(declaration.category) ?? []), declaration]);
    }
    return [...byCategory].map(([category, features]) => ({ category, features }));
  }

  async registerFeatures(owner: string, features: unknown): Promise<number> {
    // declarations are the owning subgraph's word, registered at its start with a service token in its own name;
    // nobody else (an admin included) speaks for it
    if (this.caller.role !== 'service') throw new ForbiddenError('features are registered by the subgraph that owns them (a service token)');
    if (!/^[a-z0-9_-]{2,64}$/.test(owner)) throw new BadUserInputError('owner must be a subgraph name', 'owner');
    if (this.caller.userId !== owner) {
      throw new ForbiddenError(`a service token of ${this.caller.userId} cannot register features for ${owner}`);
    }
    const { features: rows } = parseInput(z.object({ features: featureDeclarationsInput }), { features });
    const declared = await this.deps.declarations.byCode();
    rows.forEach((row, i) => {
      const existing = declared.get(row.code);
      if (existing && existing.owner !== owner) {
        throw new BadUserInputError(`feature ${row.code} is already declared by ${existing.owner}`, `features.${i}.code`);
      }
    });
    const { taken, inUse } = await this.deps.store.replaceDeclarations(owner, rows);
    if (taken.length) {
      const i = rows.findIndex((row) => row.code === taken[0]);
      throw new BadUserInputError(`feature ${taken[0]} is already declared by another owner`, `features.${i}.code`);
    }
    if (inUse.length) {
      throw new BadUserInputError(
        `${inUse.join(', ')} would be withdrawn but tier limits or merchant overrides use ${inUse.length === 1 ? 'it' : 'them'}; remove those first`,
        'features',
      );
    }
    this.deps.declarations.invalidate();
    return rows.length;
  }
}
