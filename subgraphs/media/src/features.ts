import type { FeatureDeclaration } from '@tiergraph/runtime';

/** The feature media owns: how much the merchant's files on a platform may take, in MiB. */
export const MAX_STORAGE_MB = 'max_storage_mb';

/** Media's contribution to billing's feature catalog (registered at start; billing names none of these). */
export const mediaFeatures: FeatureDeclaration[] = [
  {
    code: MAX_STORAGE_MB,
    name: 'Media storage',
    description:
      "How much storage the merchant's uploaded files on the platform may take, in megabytes (MiB, rounded up), across all of the merchant's stores there.",
    category: 'limits',
    featureType: 'QUANTITATIVE',
    scope: 'MERCHANT',
    unit: 'MB',
    displayOrder: 40,
  },
];
