export {
  DEFAULT_ENABLED_EVENTS,
  DEFAULT_WEBHOOK_SECRET,
  startStripeLocal,
  type CheckoutCompletion,
  type ClockAdvance,
  type StripeLocal,
  type StripeLocalOptions,
} from './server';
export { StripeLocalStore, type WebhookDelivery } from './store';
export { API_VERSION, type LocalEvent, type LocalInvoice, type LocalSubscription } from './objects';
export { parseStripeForm, type FormObject, type FormValue } from './form';
export { StripeApiError, type StripeErrorBody } from './errors';
export { addIntervals, prorate } from './periods';
