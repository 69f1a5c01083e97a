import { CatalogInit1732147202000 } from './1732147202000-catalog-init';
import { CatalogSoftDelete1732147402000 } from './1732147402000-catalog-soft-delete';
import { CatalogProductCounts1764590000000 } from './1764590000000-catalog-product-counts';
import { CatalogResponseTags1764600000000 } from './1764600000000-catalog-response-tags';
export const migrations = [CatalogInit1732147202000, CatalogSoftDelete1732147402000, CatalogProductCounts1764590000000, CatalogResponseTags1764600000000];
