import { randomUUID } from 'node:crypto';
import type { RunningSubgraph } from '@tiergraph/runtime';
import { createTestDatabase, startTestSubgraph, type TestDatabase } from '@tiergraph/testkit';
import Stripe from 'stripe';
import { createBillingSubgraph } from '../index';
import { noStripe } from '../payments/stripe-settings';

/** What POST /webhooks/stripe answers before any handler runs: the contract's table. */

const SECRET = 'whsec_test';
let db: TestDatabase;
let billing: RunningSubgraph;
let unconfigured: RunningSubgraph;

beforeAll(async () => {
  db = await createTestDatabase();
  [billing, unconfigured] = await Promise.all([
    startTestSubgraph(createBillingSubgraph({ stripe: { ...noStripe, webhookSecret: SECRET, trialDays: 30 } }), db.url),
    startTestSubgraph(createBillingSubgraph({ stripe: { ...noStripe, trialDays: 30 } }), db.url),
  ]);
});

afterAll(async () => {
  await Promise.all([billing?.stop(), unconfigured?.stop()]);
  await db?.drop();
});

const webhookUrl = (subgraph: RunningSubgraph) => subgraph.url.replace(/\/graphql$/, '/webhooks/stripe');
const sign = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? SECRET, timestamp: options.timestamp });

async function post(body: string | Buffer, headers: Record<string, string>, subgraph = billing): Promise<{ status: number; body: any }> {
  const response = await fetch(webhookUrl(subgraph), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // the assertion shows the text
  }
  return { status: response.status, body: parsed };
}

const unhandledEvent = () =>
  JSON.stringify({
    id: `evt_${randomUUID().replace(/-/g, '')}`,
    object: 'event',
    api_version: '2025-08-27.basil',
    created: Math.floor(Date.now() / 1000),
    type: 'customer.created',
    data: { object: { id: 'cus_1', object: 'customer' } },
  });

const eventCount = async () => (await billing.dataSource.query(`SELECT count(*)::int AS n FROM billing.stripe_webhook_events`))[0].n as number;
const refused = (status: number) => ({ status, body: { error: expect.any(String) } });

describe('POST /webhooks/stripe', () => {
  it('processes a signed event', async () => {
    const payload = unhandledEvent();
    expect(await post(payload, { 'stripe-signature': sign(payload) })).toEqual({ status: 200, body: { received: true, duplicate: false } });
    expect(await post(payload, { 'stripe-signature': sign(payload) })).toEqual({ status: 200, body: { received: true, duplicate: true } });
  });

  it('refuses unverifiable requests with 400 and records nothing', async () => {
    const before = await eventCount();
    const payload = unhandledEvent();
    const cases: Array<[string, string | Buffer, Record<string, string>]> = [
      ['missing signature header', payload, {}],
      ['signed with another secret', payload, { 'stripe-signature': sign(payload, { secret: 'whsec_other' }) }],
      ['a garbled header', payload, { 'stripe-signature': 'garbage' }],
      ['a body changed after signing', payload.replace('customer.created', 'invoice.paid'), { 'stripe-signature': sign(payload) }],
      ['a stale timestamp (10 minutes ago)', payload, { 'stripe-signature': sign(payload, { timestamp: Math.floor(Date.now() / 1000) - 600 }) }],
      ['an empty body', '', { 'stripe-signature': sign('') }],
      ['a body that is not JSON', 'not json at all', { 'stripe-signature': sign('not json at all') }],
      ['JSON that is not an event', '{"hello":"world"}', { 'stripe-signature': sign('{"hello":"world"}') }],
      ['a JSON string', '"evt_1"', { 'stripe-signature': sign('"evt_1"') }],
    ];
    for (const [name, body, headers] of cases) {
      expect({ name, ...(await post(body, headers)) }).toEqual({ name, ...refused(400) });
    }
    expect(await eventCount()).toBe(before);
  });

  it('refuses a signed event whose object is not what its type says (400), recording nothing', async () => {
    const before = await eventCount();
    const payload = JSON.stringify({
      id: `evt_${randomUUID().replace(/-/g, '')}`,
      object: 'event',
      created: Math.floor(Date.now() / 1000),
      type: 'customer.subscription.updated',
      data: { object: { id: 'sub_1', object: 'subscription', status: 'active' } },
    });
    const answer = await post(payload, { 'stripe-signature': sign(payload) });
    expect(answer).toEqual(refused(400));
    expect(answer.body.error).toMatch(/items/);
    expect(await eventCount()).toBe(before);
  });

  it('answers 413 to a body over the limit', async () => {
    const huge = JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) });
    expect(await post(huge, { 'stripe-signature': sign(huge) })).toEqual(refused(413));
  });

  it('answers 503 without STRIPE_WEBHOOK_SECRET', async () => {
    const payload = unhandledEvent();
    const answer = await post(payload, { 'stripe-signature': sign(payload) }, unconfigured);
    expect(answer).toEqual(refused(503));
    expect(answer.body.error).toMatch(/STRIPE_WEBHOOK_SECRET/);
  });
});
