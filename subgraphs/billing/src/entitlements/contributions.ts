import { BadUserInputError, type FeatureUsage } from '@tiergraph/runtime';

/** The usage the owners contributed, as @requires hands it to billing's resolvers. */
export interface ContributedUsage {
  catalogUsage?: FeatureUsage[];
  ordersUsage?: FeatureUsage[];
  tenancyUsage?: FeatureUsage[];
  mediaUsage?: FeatureUsage[];
}

/** Which subgraph contributes each usage field (the fields billing's schema `@requires`). */
const CONTRIBUTORS: Record<keyof ContributedUsage, string> = {
  catalogUsage: 'catalog',
  ordersUsage: 'orders',
  tenancyUsage: 'tenancy',
  mediaUsage: 'media',
};

/**
 * The contributions as the gateway handed them over, checked: `@requires` data arrives in the representation, which a
 * direct caller of billing's `_entities` could forge. A count must be a whole number ≥ 0, and a field may carry only
 * features its contributor declared (codes nobody declared yet are left to `summarize`, which shows declared ones only).
 */
export function checkedContributions(usage: ContributedUsage, declared: ReadonlyMap<string, { owner: string }>): FeatureUsage[][] {
  return (Object.keys(CONTRIBUTORS) as Array<keyof ContributedUsage>).map((field) => {
    const list = usage[field] ?? [];
    for (const { code, current } of list) {
      if (!Number.isSafeInteger(current) || current < 0) throw new BadUserInputError(`${field}: the count of ${code} must be a whole number ≥ 0`, field);
      const owner = declared.get(code)?.owner;
      if (owner !== undefined && owner !== CONTRIBUTORS[field]) {
        throw new BadUserInputError(`${field} carries only what ${CONTRIBUTORS[field]} counts; ${code} is counted by ${owner}`, field);
      }
    }
    return list;
  });
}

export const contributedUsage = (from: ContributedUsage): ContributedUsage => ({
  catalogUsage: from.catalogUsage,
  ordersUsage: from.ordersUsage,
  tenancyUsage: from.tenancyUsage,
  mediaUsage: from.mediaUsage,
});
