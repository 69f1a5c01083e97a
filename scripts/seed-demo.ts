import { authEnvShape, DEFAULT_PORTS, parseEnvOrExit, portSchema, signToken } from '@tiergraph/runtime';
import { z } from 'zod';
import { seedDemo } from './lib/seed-demo';
import { graphqlCaller, mediaUploader, renderDemoImage } from './lib/seed-demo-http';

/** `pnpm seed:demo`: demo data through a running graph (`pnpm start` in another terminal). */
const { AUTH_JWT_SECRET, GATEWAY_PORT, MEDIA_PORT } = parseEnvOrExit(
  z.object({
    AUTH_JWT_SECRET: authEnvShape.AUTH_JWT_SECRET,
    GATEWAY_PORT: portSchema(DEFAULT_PORTS.gateway),
    MEDIA_PORT: portSchema(DEFAULT_PORTS.media),
  }),
  process.env,
);
const gateway = `http://127.0.0.1:${GATEWAY_PORT}`;
const say = (line: string) => process.stdout.write(`[seed:demo] ${line}\n`);

async function main(): Promise<void> {
  const health = await fetch(`${gateway}/health`).catch(() => null);
  if (!health?.ok) {
    console.error(`seed:demo: the graph does not answer at ${gateway}/health; start it first with \`npx -y pnpm@10 start\` (same GATEWAY_PORT)`);
    process.exit(1);
  }
  const token = await signToken(AUTH_JWT_SECRET, { role: 'admin', sub: 'seed-demo' }, '1h');
  const started = Date.now();
  const summary = await seedDemo({
    graphql: graphqlCaller(`${gateway}/graphql`, token),
    uploadImage: mediaUploader(`http://127.0.0.1:${MEDIA_PORT}/media/upload`, token),
    renderImage: renderDemoImage,
    progress: say,
  });
  const made = Object.entries(summary.created)
    .map(([what, n]) => `${n} ${what}`)
    .join(', ');
  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${summary.merchants} merchants, ${summary.stores} stores on platform demo; created ${made}`);
}

main().catch((error: Error) => {
  console.error(`seed:demo: ${error.message}`);
  process.exit(1);
});
