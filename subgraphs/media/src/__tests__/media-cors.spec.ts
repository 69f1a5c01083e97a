import type { RunningSubgraph } from '@tiergraph/runtime';
import { corsHeadersOf, corsPreflight, createTestDatabase, startTestSubgraph, type TestDatabase } from '@tiergraph/testkit';
import { createMediaSubgraph } from '../index';

const APP = 'https://app.example.com';
const OTHER = 'https://other.example.com';

describe('media: CORS on /media for browser frontends', () => {
  let db: TestDatabase;
  let running: RunningSubgraph;
  let origin: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestSubgraph(createMediaSubgraph({ cors: { origins: [APP], credentials: false } }), db.url);
    origin = `http://127.0.0.1:${running.port}`;
  });

  afterAll(async () => {
    await running?.stop();
    await db?.drop();
  });

  it('answers the preflight of an upload from an allowed origin with 204, its origin, the headers and a max-age', async () => {
    const response = await corsPreflight(`${origin}/media/upload`, APP);
    expect(response.status).toBe(204);
    expect(corsHeadersOf(response)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'authorization,content-type,x-request-id,apollo-require-preflight,x-apollo-operation-name',
      'access-control-expose-headers': 'x-request-id',
      'access-control-max-age': '7200',
    });
  });

  it('marks file answers for an allowed origin (a file that does not exist is 404), and none for another', async () => {
    const allowed = await fetch(`${origin}/media/files/ab/cd/abcd_200.webp`, { headers: { origin: APP } });
    expect(allowed.status).toBe(404);
    expect(corsHeadersOf(allowed)).toEqual({ 'access-control-allow-origin': APP, 'access-control-expose-headers': 'x-request-id' });
    expect(allowed.headers.get('vary')).toBe('Origin');

    const other = await fetch(`${origin}/media/files/ab/cd/abcd_200.webp`, { headers: { origin: OTHER } });
    expect(corsHeadersOf(other)).toEqual({});
    expect(other.headers.get('vary')).toBe('Origin');
    const preflight = await corsPreflight(`${origin}/media/upload`, OTHER);
    expect([preflight.status, corsHeadersOf(preflight)]).toEqual([204, {}]);
  });

  it('keeps CORS to /media: the subgraph’s own /graphql and /health are for the gateway, not for browsers', async () => {
    for (const path of ['/graphql', '/health']) {
      const response = await fetch(`${origin}${path}`, { headers: { origin: APP } });
      expect(corsHeadersOf(response)).toEqual({});
    }
  });
});
