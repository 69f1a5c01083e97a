import type { FeatureDeclaration } from '@tiergraph/runtime';
import type { FeatureCatalogStore } from './feature-catalog-store';

/** As stored: who declared it, and who counts it (COMPUTED unless declared METERED). */
export type RegisteredFeature = FeatureDeclaration & { owner: string; measurement: 'COMPUTED' | 'METERED' };

/**
 * The feature catalog as the owners registered it, read once per process and dropped on every change
 * notification (a registration notifies { all: true }).
 */
export class DeclarationRegistry {
  private loaded: Promise<RegisteredFeature[]> | undefined;

  constructor(private readonly store: FeatureCatalogStore) {}

  all(): Promise<RegisteredFeature[]> {
    this.loaded ??= this.store.declarations().catch((error) => {
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
  }

  async byCode(): Promise<Map<string, RegisteredFeature>> {
    return new Map((await this.all()).map((d) => [d.code, d]));
  }

  invalidate(): void {
    this.loaded = undefined;
  }
}
