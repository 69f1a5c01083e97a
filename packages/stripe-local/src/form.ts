import qs from 'qs';

/**
 * Stripe's form encoding (`application/x-www-form-urlencoded` with bracket notation), as the `stripe` SDK sends it:
 * `line_items[0][price]=price_1&metadata[merchantId]=m1&expand[]=customer`, parsed with `qs`.
 *
 * Numeric (`[0]`) and empty (`[]`) segments make arrays, any other segment makes an object; every leaf stays a string
 * (the handlers coerce, as Stripe does). Under `metadata` every key is literal, so `metadata[0]=x` stays an object.
 */

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

const OPTIONS: qs.IParseOptions = {
  // Stripe's deepest forms nest a few levels (line_items[0][price_data][product_data][name]); lists may be long
  depth: 20,
  arrayLimit: 10_000,
  parameterLimit: 100_000,
  // a repeated scalar key keeps its last value, as Stripe reads it
  duplicates: 'last',
  // keys that would reach Object.prototype are dropped
  allowPrototypes: false,
};

/** Metadata is a flat map of strings: an array qs made of numeric keys becomes the object Stripe keeps. */
function withMetadataAsObjects(value: unknown, key?: string): FormValue {
  if (Array.isArray(value)) {
    const items = value.map((item) => withMetadataAsObjects(item));
    return key === 'metadata' ? Object.fromEntries(items.map((item, i) => [String(i), item])) : items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withMetadataAsObjects(v, k)]));
  }
  return String(value ?? '');
}

/** Parses a form-encoded string (a request body or a query string without `?`) into nested objects and arrays. */
export function parseStripeForm(text: string): FormObject {
  return withMetadataAsObjects(qs.parse(text, OPTIONS)) as FormObject;
}
