import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Express } from 'express';

/**
 * GraphiQL for development, served by the gateway itself from packages installed with it (graphiql's UMD build with
 * React 18): no CDN, so it opens on a machine without internet. GET /graphql from a browser shows it, with the
 * contract's operations (when ../shared/contract is beside the checkout) to pick from with the run button, and an
 * authorization header to fill in. Production serves no IDE (see startGateway).
 */
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

const ASSETS: Record<string, { file: string; type: string }> = {
  'react.js': { file: join(packageDir('react'), 'umd', 'react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': { file: join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.js': { file: join(packageDir('graphiql'), 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { file: join(packageDir('graphiql'), 'graphiql.min.css'), type: 'text/css' },
};

/** The contract's operations document, if the checkout has shared/ beside it. */
export const DEFAULT_CONTRACT_PATH = join(__dirname, '..', '..', '..', 'shared', 'contract', 'operations.graphql');

const FALLBACK_QUERY = `# No contract file was found beside the checkout; try:
query Platforms { platforms { id code name } }
`;

const HEADERS = `{
  "authorization": "Bearer <paste the output of: npx -y pnpm@10 -s token --role admin>"
}`;

/** A string as a JavaScript literal inside a <script>: JSON, with `<` escaped so `</script>` cannot end it. */
const scriptLiteral = (value: string) => JSON.stringify(value).replace(/</g, '\\u003c');

export function graphiqlPage(operations: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>tiergraph · GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/graphiql.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.js"></script>
  <script src="/graphiql/react-dom.js"></script>
  <script src="/graphiql/graphiql.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultQuery: ${scriptLiteral(operations)},
        defaultHeaders: ${scriptLiteral(HEADERS)},
        headerEditorEnabled: true,
        shouldPersistHeaders: true,
      }),
    );
  </script>
</body>
</html>`;
}

/** GET /graphiql/<asset> and, for a browser (Accept: text/html), GET /graphql: the IDE page. */
export function mountGraphiQL(app: Express, contractPath = DEFAULT_CONTRACT_PATH): void {
  const page = graphiqlPage(existsSync(contractPath) ? readFileSync(contractPath, 'utf8') : FALLBACK_QUERY);
  app.get('/graphiql/:asset', (req, res, next) => {
    const asset = ASSETS[req.params.asset];
    if (!asset) return next();
    res.type(asset.type).set('cache-control', 'public, max-age=86400').sendFile(asset.file, { dotfiles: 'allow' }); // pnpm keeps packages under node_modules/.pnpm
  });
  app.get('/graphql', (req, res, next) => {
    // a GET with a query is an operation; only a browser's plain page request gets the IDE
    if (req.query.query !== undefined || !req.accepts('html') || req.accepts(['html', 'json']) !== 'html') return next();
    res.type('html').send(page);
  });
}
