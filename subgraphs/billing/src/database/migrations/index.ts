import { BillingInit1732147201000 } from './1732147201000-billing-init';
import { BillingCore1732147300000 } from './1732147300000-billing-core';
import { HistoryOrder1732147301000 } from './1732147301000-history-order';
import { StripeCustomers1732147450000 } from './1732147450000-stripe-customers';
import { StripeWebhooks1732147500000 } from './1732147500000-stripe-webhooks';
import { PaymentState1732147600000 } from './1732147600000-payment-state';
import { PaymentVerdict1732147700000 } from './1732147700000-payment-verdict';
import { TierChangeNotify1732147900000 } from './1732147900000-tier-change-notify';
import { MeteredUsage1732147800000 } from '../../usage/migrations/1732147800000-metered-usage';

export const migrations = [
  BillingInit1732147201000,
  BillingCore1732147300000,
  HistoryOrder1732147301000,
  StripeCustomers1732147450000,
  StripeWebhooks1732147500000,
  PaymentState1732147600000,
  PaymentVerdict1732147700000,
  MeteredUsage1732147800000,
  TierChangeNotify1732147900000,
];
