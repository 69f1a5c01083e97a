import net from 'node:net';
import { callSubgraph, InternalCallError } from './internal-client';

const closedPort = () =>
  new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });

describe('an internal call that fails', () => {
  it('says why without the address (it reaches clients inside *_UNAVAILABLE errors); the address is kept for the logs', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/graphql`;
    const error = await callSubgraph(url, '{ __typename }', {}, async () => 'token').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InternalCallError);
    expect((error as InternalCallError).message).toBe('fetch failed');
    expect((error as InternalCallError).target).toBe(url);
  });
});
