/**
 * A hand-written parser for Stripe's form encoding (`application/x-www-form-urlencoded` with bracket notation), as the
 * `stripe` SDK sends it: `line_items[0][price]=price_1&metadata[merchantId]=m1&expand[]=customer`.
 *
 * Numeric (`[0]`) and empty (`[]`) segments make arrays, any other segment makes an object; every leaf stays a string
 * (the handlers coerce, as Stripe does). Under `metadata` every segment is a key, so `metadata[0]=x` stays an object.
 */

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

/** Keys that would reach Object.prototype through a plain object; dropped. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

interface Container {
  kind: 'object' | 'array';
  entries: Map<string, Container | string>;
  /** Next index for `[]` segments. */
  nextIndex: number;
}

function newContainer(kind: Container['kind']): Container {
  return { kind, entries: new Map(), nextIndex: 0 };
}

function decode(component: string): string {
  const spaced = component.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced; // a stray `%` stays as it was, as lenient servers do
  }
}

/** `a[b][0][]` → `['a', 'b', '0', '']`; a key with unbalanced brackets is taken literally. */
export function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  const rest = key.slice(open);
  const pattern = /\[([^\[\]]*)\]/g;
  let consumed = 0;
  for (let match = pattern.exec(rest); match; match = pattern.exec(rest)) {
    if (match.index !== consumed) return [key];
    segments.push(match[1]);
    consumed = pattern.lastIndex;
  }
  return consumed === rest.length ? segments : [key];
}

const isIndex = (segment: string) => segment === '' || /^\d+$/.test(segment);

function assign(root: Container, segments: string[], value: string): void {
  let node = root;
  for (let i = 0; i < segments.length; i += 1) {
    let segment = segments[i];
    if (FORBIDDEN_KEYS.has(segment)) return;
    if (segment === '') {
      segment = String(node.nextIndex);
    }
    if (node.kind === 'array' && /^\d+$/.test(segment)) {
      node.nextIndex = Math.max(node.nextIndex, Number(segment) + 1);
    }
    const last = i === segments.length - 1;
    if (last) {
      node.entries.set(segment, value);
      return;
    }
    const underMetadata = segment === 'metadata';
    const wantKind: Container['kind'] = !underMetadata && isIndex(segments[i + 1]) ? 'array' : 'object';
    const existing = node.entries.get(segment);
    if (existing === undefined || typeof existing === 'string') {
      const created = newContainer(wantKind);
      node.entries.set(segment, created);
      node = created;
    } else {
      node = existing;
    }
    if (underMetadata) {
      // every key under metadata is literal: join the remaining segments back into one key
      const rest = segments.slice(i + 1);
      const metadataKey = rest.length === 1 ? rest[0] : `${rest[0]}${rest.slice(1).map((s) => `[${s}]`).join('')}`;
      if (FORBIDDEN_KEYS.has(metadataKey)) return;
      node.entries.set(metadataKey, value);
      return;
    }
  }
}

function finish(container: Container): FormValue {
  if (container.kind === 'array') {
    return [...container.entries.entries()]
      .filter(([key]) => /^\d+$/.test(key))
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, value]) => (typeof value === 'string' ? value : finish(value)));
  }
  const result: FormObject = {};
  for (const [key, value] of container.entries) {
    result[key] = typeof value === 'string' ? value : finish(value);
  }
  return result;
}

/** Parses a form-encoded string (a request body or a query string without `?`) into nested objects and arrays. */
export function parseStripeForm(text: string): FormObject {
  const root = newContainer('object');
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const equals = pair.indexOf('=');
    const rawKey = equals === -1 ? pair : pair.slice(0, equals);
    const rawValue = equals === -1 ? '' : pair.slice(equals + 1);
    const key = decode(rawKey);
    if (!key) continue;
    assign(root, splitKey(key), decode(rawValue));
  }
  return finish(root) as FormObject;
}
