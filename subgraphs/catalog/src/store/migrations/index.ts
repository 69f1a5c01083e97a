import { CatalogInit1732147202000 } from './1732147202000-catalog-init';

export const migrations = [CatalogInit1732147202000];
