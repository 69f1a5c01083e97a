import { invoiceSchema } from '../events';
import { invoiceRecordOf, linkMetadataOf, stateAfterInvoicePaid, subscriptionOfInvoice } from '../mapping';
import { defineHandler } from './handler';
import { saveState, staleOutcome } from './subscription-sync';

/**
 * invoice.paid: one billing-history row per invoice (whatever the order of events), and the subscription the invoice
 * bills leaves PAST_DUE for ACTIVE with its payment attempts reset.
 */
export const invoicePaid = defineHandler({
  object: invoiceSchema,
  apply: async (context, invoice) => {
    const billed = subscriptionOfInvoice(invoice);
    const link = linkMetadataOf(billed.metadata);
    const pair = (billed.id ? await context.store.pairOfStripeSubscription(billed.id) : null) ?? link.pair;
    if (!pair) return `ignored: invoice ${invoice.id} of an unknown subscription (not linked, no merchant in the metadata)`;
    // the subscription's lock first, as every writer of it takes it
    const current = await context.store.lockSubscription(pair);
    const recorded = await context.store.insertInvoice(pair, invoiceRecordOf(invoice, 'paid'));
    const invoiceNote = recorded ? `invoice ${invoice.id} recorded` : `invoice ${invoice.id} already recorded`;
    if (link.kind === 'addon' || !current || !billed.id || current.stripeSubscriptionId !== billed.id) {
      return `${invoiceNote}; not the invoice of the merchant's linked subscription, status unchanged`;
    }
    const stale = staleOutcome(context.event, current, 'payment');
    if (stale) return `${invoiceNote}; ${stale}`;
    return `${invoiceNote}; ${await saveState(context, pair, current, stateAfterInvoicePaid(current), null, { mark: 'payment', verdict: 'PAID' })}`;
  },
});
