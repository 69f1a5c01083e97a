import { TenancyInit1732147200000 } from './1732147200000-tenancy-init';

export const migrations = [TenancyInit1732147200000];
