import qs from 'qs';

/**
 * Stripe's form encoding (`application/x-www-form-urlencoded` with bracket notation), as the `stripe` SDK sends it:
 * `line_items[0][price]=price_1&metadata[merchantId]=m1&expand[]=customer`, parsed with `qs`.
 *
 * Numeric (`[0]`) and empty (`[]`) segments make arrays, any other segment makes an object; every leaf stays a string
 * (the handlers coerce, as Stripe does). A metadata map (`metadata[…]`, also below another key, as in
 * `subscription_data[metadata][…]`) is flat: everything between its bracket and the name's last `]` is one key,
 * verbatim, as the SDK wrote it (`metadata[10]` is the key "10", never an array index; `metadata[a[b]]` is "a[b]").
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

/**
 * A decoded name that sets one key of a metadata map: the path to the map (`metadata`, `subscription_data[metadata]`)
 * and the key, verbatim (the rest of the name without its outer brackets). Null for any other name.
 */
export function metadataEntryOf(name: string): { path: string; key: string } | null {
  let open = name.indexOf('[');
  if (open <= 0 || !name.endsWith(']')) return null;
  let parent = name.slice(0, open);
  while (open < name.length) {
    if (parent === 'metadata') return { path: name.slice(0, open), key: name.slice(open + 1, -1) };
    const close = name.indexOf(']', open);
    parent = name.slice(open + 1, close);
    if (parent.includes('[') || name[close + 1] !== '[') return null;
    open = close + 1;
  }
  return null;
}

/**
 * Renames the placeholders in every metadata map back to the verbatim keys (`keys[i]` for `k<i>`): qs only ever saw
 * the placeholders, which are neither numbers nor bracketed, so it kept each map a flat object.
 */
function withMetadataKeys(value: unknown, keys: readonly string[], inMetadata = false): FormValue {
  if (Array.isArray(value)) return value.map((item) => withMetadataKeys(item, keys));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => (inMetadata ? [keys[Number(k.slice(1))] ?? k, String(v ?? '')] : [k, withMetadataKeys(v, keys, k === 'metadata')])),
    );
  }
  return String(value ?? '');
}

/** Parses a form-encoded string (a request body or a query string without `?`) into nested objects and arrays. */
export function parseStripeForm(text: string): FormObject {
  const keys: string[] = [];
  const placeholders = new Map<string, string>();
  const parsed = qs.parse(text, {
    ...OPTIONS,
    // a metadata name reaches qs as `<path>[k<i>]`, one placeholder per verbatim key (a repeated key keeps its last value)
    decoder(encoded, decode, charset, type) {
      const decoded: string = decode(encoded, decode, charset);
      const entry = type === 'key' ? metadataEntryOf(decoded) : null;
      if (!entry) return decoded;
      let placeholder = placeholders.get(entry.key);
      if (placeholder === undefined) {
        placeholder = `k${keys.push(entry.key) - 1}`;
        placeholders.set(entry.key, placeholder);
      }
      return `${entry.path}[${placeholder}]`;
    },
  });
  return withMetadataKeys(parsed, keys) as FormObject;
}
