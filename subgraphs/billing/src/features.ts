import type { FeatureDeclaration } from '@tiergraph/runtime';

/**
 * The features billing itself owns: metered usage it records, and the plan's binary features, which no other
 * subgraph counts. Registered with the feature catalog at start like every other owner's.
 */
export const billingFeatures: FeatureDeclaration[] = [
  {
    code: 'ai_tokens_per_month',
    name: 'AI tokens per month',
    description: 'AI tokens a merchant may use in a billing period, metered through recordUsage.',
    category: 'usage',
    featureType: 'QUANTITATIVE',
    scope: 'MERCHANT',
    unit: 'tokens',
    displayOrder: 10,
    measurement: 'METERED',
  },
  binary('basic_analytics', 'Basic analytics', 'Sales and traffic summaries.', 'analytics', 10),
  binary('analytics_dashboard', 'Analytics dashboard', 'The full analytics dashboard with trends and exports.', 'analytics', 20),
  binary('api_access', 'API access', 'Programmatic access to the store through the API.', 'integrations', 10),
  binary('white_label', 'White label', 'The storefront without platform branding.', 'branding', 10),
  binary('basic_support', 'Basic support', 'Support by email within two business days.', 'support', 10),
  binary('priority_support', 'Priority support', 'Support with a same-day response.', 'support', 20),
];

function binary(code: string, name: string, description: string, category: string, displayOrder: number): FeatureDeclaration {
  return { code, name, description, category, featureType: 'BINARY', scope: 'MERCHANT', unit: null, displayOrder };
}
