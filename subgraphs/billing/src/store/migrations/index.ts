import { BillingInit1732147201000 } from './1732147201000-billing-init';
import { BillingCore1732147300000 } from './1732147300000-billing-core';

export const migrations = [BillingInit1732147201000, BillingCore1732147300000];
