import { BillingInit1732147201000 } from './1732147201000-billing-init';

export const migrations = [BillingInit1732147201000];
