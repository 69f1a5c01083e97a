import { BadUserInputError, type FeatureUsage } from '@tiergraph/runtime';

/**
 * The usage the owners contributed, as @requires hands it to billing's resolvers. `null`: the contributor failed
 * (down, timed out, or its count failed; the gateway answers a failed fetch's nullable fields as null), so its
 * features' usage is unknown. Absent (a direct call that handed nothing over): nothing counted.
 */
export interface ContributedUsage {
  catalogUsage?: FeatureUsage[] | null;
  ordersUsage?: FeatureUsage[] | null;
  tenancyUsage?: FeatureUsage[] | null;
  mediaUsage?: FeatureUsage[] | null;
}

/** The checked contributions: the counts, and the owners whose contribution is missing (their features are unknown). */
export interface Contributions {
  counts: FeatureUsage[][];
  unavailable: ReadonlySet<string>;
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
export function checkedContributions(usage: ContributedUsage, declared: ReadonlyMap<string, { owner: string }>): Contributions {
  const unavailable = new Set<string>();
  const counts = (Object.keys(CONTRIBUTORS) as Array<keyof ContributedUsage>).map((field) => {
    const given = usage[field];
    if (given === null) {
      unavailable.add(CONTRIBUTORS[field]);
      return [];
    }
    const list = given ?? [];
    for (const { code, current } of list) {
      if (!Number.isSafeInteger(current) || current < 0) throw new BadUserInputError(`${field}: the count of ${code} must be a whole number ≥ 0`, field);
      const owner = declared.get(code)?.owner;
      if (owner !== undefined && owner !== CONTRIBUTORS[field]) {
        throw new BadUserInputError(`${field} carries only what ${CONTRIBUTORS[field]} counts; ${code} is counted by ${owner}`, field);
      }
    }
    return list;
  });
  return { counts, unavailable };
}

export const contributedUsage = (from: ContributedUsage): ContributedUsage => ({
  catalogUsage: from.catalogUsage,
  ordersUsage: from.ordersUsage,
  tenancyUsage: from.tenancyUsage,
  mediaUsage: from.mediaUsage,
});

/** Whether a reference carries any contribution (null included): the gateway sends them only for `features`. */
const CONTRIBUTED_FIELDS = Object.keys(CONTRIBUTORS);
export const bringsContributions = (reference: object): boolean => CONTRIBUTED_FIELDS.some((field) => field in reference);
