import type { FeatureDeclaration } from '@tiergraph/runtime';

export const TEAM_MEMBERS = 'max_team_members';

/** Tenancy owns the team: active MEMBERs across the merchant's stores on a platform (owners never count). */
export const tenancyFeatures: FeatureDeclaration[] = [
  {
    code: TEAM_MEMBERS,
    name: 'Team members',
    description: 'Active team members (MEMBER users) across the merchant’s stores on the platform; owners are not counted.',
    category: 'limits',
    featureType: 'QUANTITATIVE',
    scope: 'MERCHANT',
    unit: 'team members',
    displayOrder: 30,
  },
];
