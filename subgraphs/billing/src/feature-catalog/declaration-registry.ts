import type { FeatureDeclaration } from '@tiergraph/runtime';
import type { FeatureCatalogStore } from './feature-catalog-store';

/** As stored: who declared it, and who counts it (COMPUTED unless declared METERED). */
export type RegisteredFeature = FeatureDeclaration & { owner: string; measurement: 'COMPUTED' | 'METERED' };

/**
 * The feature catalog as the owners registered it, read once per process and dropped on every change
 * notification (a registration notifies { all: true }).
 */
export class DeclarationRegistry {
  private loaded: Promise<{ all: RegisteredFeature[]; byCode: ReadonlyMap<string, RegisteredFeature> }> | undefined;

  constructor(private readonly store: FeatureCatalogStore) {}

  private current() {
    this.loaded ??= this.store.declarations().then(
      (all) => ({ all, byCode: new Map(all.map((d) => [d.code, d])) }),
      (error) => {
        this.loaded = undefined;
        throw error;
      },
    );
    return this.loaded;
  }

  async all(): Promise<RegisteredFeature[]> {
    return (await this.current()).all;
  }

  /** The same declarations by code: one map per load, built once and shared until the next change. */
  async byCode(): Promise<ReadonlyMap<string, RegisteredFeature>> {
    return (await this.current()).byCode;
  }

  invalidate(): void {
    this.loaded = undefined;
  }
}
