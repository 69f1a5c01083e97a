import type { FeatureDeclaration } from '@tiergraph/runtime';

/** The feature catalog enforces: how many products a merchant may keep on a platform. */
export const MAX_PRODUCTS = 'max_products';

/** Catalog's contribution to billing's feature catalog (registered at start; billing names none of these). */
export const catalogFeatures: FeatureDeclaration[] = [
  {
    code: MAX_PRODUCTS,
    name: 'Products',
    description:
      "How many products the merchant may have on the platform, counted across all of the merchant's stores there. Deleted products do not count.",
    category: 'limits',
    featureType: 'QUANTITATIVE',
    scope: 'MERCHANT',
    unit: 'products',
    displayOrder: 10,
  },
];
