import type { Browser } from 'playwright-core';
import { tokenFor } from '@tiergraph/testkit';
import { launchChromium } from './browser';
import { contractOperationNames, startTestGateway, startTestGraph, type TestGraph } from './graph';
import { SUBGRAPH_NAMES, type SubgraphName } from '@tiergraph/runtime';

/** GET /graphql in a browser opens GraphiQL from the gateway's own files, with the contract to pick from (issue 11). */
let graph: TestGraph;
let browser: Browser;

beforeAll(async () => {
  graph = await startTestGraph();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await graph?.stop();
});

describe('GraphiQL in development', () => {
  it('is a page whose every resource comes from the gateway itself', async () => {
    const page = await fetch(graph.gateway.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources.sort()).toEqual(['/graphiql/graphiql.css', '/graphiql/graphiql.js', '/graphiql/react-dom.js', '/graphiql/react.js']);
    for (const source of sources) {
      const asset = await fetch(`${graph.origin}${source}`);
      expect(asset.status).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    // a GET that carries a query is still an operation, and a JSON client still gets JSON
    const operation = await fetch(`${graph.gateway.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${await tokenFor({ role: 'admin' })}` },
    });
    expect(await operation.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('opens in headless Chromium with no request leaving the machine, with every contract operation in its editor', async () => {
    const context = await browser.newContext();
    const outside: string[] = [];
    context.on('request', (request) => {
      if (!request.url().startsWith(graph.origin)) outside.push(request.url());
    });
    const tab = await context.newPage();
    await tab.goto(graph.gateway.url);
    await tab.waitForSelector('.graphiql-container', { timeout: 20_000 });
    // the whole editor's text (CodeMirror draws only the visible lines)
    const editor = await tab.evaluate<string>("document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()");
    // the contract's operations are there to pick from with the run button
    for (const name of contractOperationNames()) expect(editor).toMatch(new RegExp(`(query|mutation) ${name}\\b`));
    expect(outside).toEqual([]);
    await context.close();
  });
});

describe('production', () => {
  it('serves no IDE', async () => {
    const urls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, graph.subgraphs[n].url])) as Record<SubgraphName, string>;
    const gateway = await startTestGateway(urls, { NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-production-secret-of-enough-length' });
    try {
      const page = await fetch(gateway.url, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
      expect(await page.text()).not.toContain('GraphiQL');
      expect((await fetch(`http://127.0.0.1:${gateway.port}/graphiql/graphiql.js`)).status).toBe(404);
    } finally {
      await gateway.stop();
    }
  });
});
