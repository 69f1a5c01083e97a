import { createGatewayMetrics, createOperationLabeler, MAX_OPERATION_LABELS, operationLabel } from './metrics';

/** Runs one request through the metrics plugin as Apollo Server would, with this operation name. */
async function request(metrics: ReturnType<typeof createGatewayMetrics>, operationName: string | null): Promise<void> {
  const listener = await metrics.plugin.requestDidStart!({} as never);
  await (listener as { willSendResponse: (ctx: unknown) => Promise<void> }).willSendResponse({ operationName, request: {} });
}

async function operationValues(metrics: ReturnType<typeof createGatewayMetrics>): Promise<string[]> {
  const { values } = await metrics.requests.get();
  return values.map((v) => String(v.labels.operation));
}

describe('operation labels', () => {
  it('keeps valid names, and names anonymous and invalid ones', () => {
    expect([operationLabel('GetStores'), operationLabel(undefined), operationLabel(''), operationLabel('a-b'), operationLabel('x'.repeat(65))]).toEqual([
      'GetStores',
      'anonymous',
      'anonymous',
      'invalid',
      'invalid',
    ]);
  });

  it('gives the first distinct names their own value and every later one `other`', () => {
    const label = createOperationLabeler(2);
    expect(['A', 'B', 'C', 'A', 'B', 'D', null, 'bad name'].map(label)).toEqual(['A', 'B', 'other', 'A', 'B', 'other', 'anonymous', 'invalid']);
  });

  it('keeps the request metrics to at most MAX_OPERATION_LABELS names however many a client sends', async () => {
    const metrics = createGatewayMetrics();
    for (let i = 0; i < MAX_OPERATION_LABELS + 300; i++) await request(metrics, `Op${i}`);
    await request(metrics, 'Op0');
    await request(metrics, null);

    const values = await operationValues(metrics);
    expect(new Set(values).size).toBe(MAX_OPERATION_LABELS + 2); // the names, `other` and `anonymous`
    expect(values).toEqual(expect.arrayContaining(['Op0', `Op${MAX_OPERATION_LABELS - 1}`, 'other', 'anonymous']));
    expect(values).not.toContain(`Op${MAX_OPERATION_LABELS}`);
    const { values: counts } = await metrics.requests.get();
    expect(counts.find((v) => v.labels.operation === 'other')?.value).toBe(300);
    expect(counts.find((v) => v.labels.operation === 'Op0')?.value).toBe(2);
    const durations = await metrics.requestDuration.get();
    expect(new Set(durations.values.map((v) => v.labels.operation)).size).toBe(MAX_OPERATION_LABELS + 2);
  });
});
