import { match, type MatchFunction } from 'path-to-regexp';

/** One route of a table: a method and a path template (`/v1/customers/:id`, path-to-regexp's syntax). */
export interface Route<H> {
  method: 'GET' | 'POST' | 'DELETE';
  template: string;
  matches: MatchFunction<Record<string, string>>;
  handler: H;
}

export function route<H>(method: Route<H>['method'], template: string, handler: H): Route<H> {
  return { method, template, matches: match<Record<string, string>>(template, { decode: decodeURIComponent, sensitive: true }), handler };
}

/** The first route of the table for the method and path, with the path's parameters (decoded); null when none. */
export function findRoute<H>(routes: readonly Route<H>[], method: string, path: string): { handler: H; path: Record<string, string> } | null {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const found = candidate.matches(path);
    if (found) return { handler: candidate.handler, path: { ...found.params } };
  }
  return null;
}
