import { invalidParameter, parameterMissing } from './errors';
import type { FormObject, FormValue } from './form';

/**
 * Typed reads from a parsed form, with Stripe's error answers (`parameter_missing`, `parameter_invalid_integer`, …)
 * naming the full bracket path of the parameter (`line_items[0][price]`).
 */
export class Params {
  constructor(
    readonly raw: FormObject,
    private readonly path = '',
  ) {}

  name(key: string): string {
    return this.path ? `${this.path}[${key}]` : key;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  string(key: string): string | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalidParameter(this.name(key), `Invalid string: ${this.name(key)} must be a string.`);
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === '') throw parameterMissing(this.name(key));
    return value;
  }

  integer(key: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    const value = this.string(key);
    if (value === undefined || value === '') return undefined;
    if (!/^-?\d+$/.test(value)) {
      throw invalidParameter(this.name(key), `Invalid integer: ${value}`, 'parameter_invalid_integer');
    }
    const number = Number(value);
    if ((bounds.min !== undefined && number < bounds.min) || (bounds.max !== undefined && number > bounds.max)) {
      const range = [bounds.min !== undefined ? `at least ${bounds.min}` : '', bounds.max !== undefined ? `at most ${bounds.max}` : '']
        .filter(Boolean)
        .join(' and ');
      throw invalidParameter(this.name(key), `Invalid ${this.name(key)}: must be ${range}`, 'parameter_invalid_integer');
    }
    return number;
  }

  boolean(key: string): boolean | undefined {
    const value = this.string(key);
    if (value === undefined || value === '') return undefined;
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw invalidParameter(this.name(key), `Invalid boolean: ${value}`);
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const value = this.string(key);
    if (value === undefined || value === '') return undefined;
    if (!(values as readonly string[]).includes(value)) {
      throw invalidParameter(this.name(key), `Invalid ${this.name(key)}: must be one of ${values.join(', ')}`);
    }
    return value as T;
  }

  object(key: string): Params | undefined {
    const value = this.raw[key];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw invalidParameter(this.name(key), `Invalid object: ${this.name(key)} must be a hash.`);
    }
    return new Params(value, this.name(key));
  }

  /** An array of hashes (`items[0][price]`). */
  objects(key: string): Params[] {
    const value = this.raw[key];
    if (value === undefined || value === '') return [];
    const list = asArray(value);
    if (!list) throw invalidParameter(this.name(key), `Invalid array: ${this.name(key)} must be an array.`);
    return list.map((entry, index) => {
      if (typeof entry !== 'object' || Array.isArray(entry)) {
        throw invalidParameter(`${this.name(key)}[${index}]`, `Invalid object: ${this.name(key)}[${index}] must be a hash.`);
      }
      return new Params(entry, `${this.name(key)}[${index}]`);
    });
  }

  /** An array of strings (`expand[]`, `lookup_keys[]`). */
  strings(key: string): string[] {
    const value = this.raw[key];
    if (value === undefined || value === '') return [];
    if (typeof value === 'string') return [value];
    const list = asArray(value);
    if (!list || list.some((entry) => typeof entry !== 'string')) {
      throw invalidParameter(this.name(key), `Invalid array: ${this.name(key)} must be an array of strings.`);
    }
    return list as string[];
  }

  /**
   * Metadata as given: undefined (not sent), null (`metadata=` clears everything), or the keys sent, where an empty
   * value means "remove this key" (Stripe's update semantics).
   */
  metadata(key = 'metadata'): Record<string, string> | null | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (value === '') return null;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw invalidParameter(this.name(key), `Invalid object: ${this.name(key)} must be a hash.`);
    }
    const result: Record<string, string> = {};
    for (const [metadataKey, metadataValue] of Object.entries(value)) {
      if (typeof metadataValue !== 'string') {
        throw invalidParameter(`${this.name(key)}[${metadataKey}]`, 'Metadata values must be strings.');
      }
      if (metadataKey.length > 40) throw invalidParameter(`${this.name(key)}[${metadataKey}]`, 'Metadata keys can be at most 40 characters.');
      if (metadataValue.length > 500) throw invalidParameter(`${this.name(key)}[${metadataKey}]`, 'Metadata values can be at most 500 characters.');
      result[metadataKey] = metadataValue;
    }
    if (Object.keys(result).length > 50) throw invalidParameter(this.name(key), 'Metadata can have at most 50 keys.');
    return result;
  }
}

function asArray(value: FormValue): FormValue[] | undefined {
  if (Array.isArray(value)) return value;
  // `items[0][…]` after a stray `items[x]` may arrive as an object keyed by indices
  if (typeof value === 'object' && Object.keys(value).every((key) => /^\d+$/.test(key))) {
    return Object.keys(value)
      .sort((a, b) => Number(a) - Number(b))
      .map((key) => value[key]);
  }
  return undefined;
}

/** Applies Stripe's metadata update: merge, empty value removes the key, `metadata=` clears. */
export function mergeMetadata(current: Record<string, string>, update: Record<string, string> | null | undefined): Record<string, string> {
  if (update === undefined) return current;
  if (update === null) return {};
  const next = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Metadata for a create: empty values are dropped. */
export function createMetadata(update: Record<string, string> | null | undefined): Record<string, string> {
  return mergeMetadata({}, update);
}
