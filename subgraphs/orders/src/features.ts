import type { FeatureDeclaration } from '@tiergraph/runtime';

/** The feature orders enforces: how many orders a merchant may take on a platform per billing period. */
export const MAX_ORDERS_PER_MONTH = 'max_orders_per_month';

/** Orders' contribution to billing's feature catalog (registered at start; billing names none of these). */
export const ordersFeatures: FeatureDeclaration[] = [
  {
    code: MAX_ORDERS_PER_MONTH,
    name: 'Orders per month',
    description:
      "How many orders the merchant's stores on the platform may take per billing period, counted from the start of the current period to its end; the count starts again with each period.",
    category: 'limits',
    featureType: 'QUANTITATIVE',
    scope: 'MERCHANT',
    unit: 'orders',
    displayOrder: 20,
  },
];
