import { TenancyInit1732147200000 } from './1732147200000-tenancy-init';
import { TenancyTeamMemberCounts1764590000001 } from './1764590000001-tenancy-team-member-counts';
import { TenancyResponseTags1764600000001 } from './1764600000001-tenancy-response-tags';
export const migrations = [TenancyInit1732147200000, TenancyTeamMemberCounts1764590000001, TenancyResponseTags1764600000001];
