import { invoiceSchema } from '../events';
import { linkMetadataOf, stateAfterPaymentFailed, subscriptionOfInvoice } from '../mapping';
import { defineHandler } from './handler';
import { locateSubscription, relinkNever, saveState, staleOutcome } from './subscription-sync';

/** invoice.payment_failed: the subscription the invoice bills becomes PAST_DUE and keeps the invoice's attempt count. */
export const invoicePaymentFailed = defineHandler({
  object: invoiceSchema,
  apply: async (context, invoice) => {
    const billed = subscriptionOfInvoice(invoice);
    const link = linkMetadataOf(billed.metadata);
    if (link.kind === 'addon') return 'ignored: an add-on invoice';
    if (!billed.id) return 'ignored: not a subscription invoice';
    const located = await locateSubscription(context.store, billed.id, link, relinkNever);
    if (!located.found) return located.outcome;
    const { pair, current } = located;
    if (!current || current.stripeSubscriptionId !== billed.id) return `ignored: ${billed.id} is not linked to a subscription`;
    const stale = staleOutcome(context.event, current, 'payment');
    if (stale) return `attempt ${invoice.attempt_count ?? '?'} of invoice ${invoice.id} failed; ${stale}`;
    const next = stateAfterPaymentFailed(current, invoice.attempt_count);
    if (!next) return `ignored: the subscription is ${current.status}`;
    return saveState(context, pair, current, next, null, { mark: 'payment', verdict: 'FAILED' });
  },
});
