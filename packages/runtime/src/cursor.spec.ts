import { randomUUID } from 'node:crypto';
import { decodeCursor, encodeCursor } from './cursor';

describe('product cursors', () => {
  it('round-trips a position with microseconds and stays opaque', () => {
    const position = { createdAt: '2024-11-21T10:00:00.123456Z', id: randomUUID() };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(position.id);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['no separator', Buffer.from('2024-11-21T10:00:00.123456Z').toString('base64url')],
    ['id no uuid', Buffer.from('2024-11-21T10:00:00.123456Z|42').toString('base64url')],
    ['time without microseconds', Buffer.from(`2024-11-21T10:00:00Z|${randomUUID()}`).toString('base64url')],
    ['impossible date', Buffer.from(`2024-13-45T10:00:00.000000Z|${randomUUID()}`).toString('base64url')],
    ['30 February', Buffer.from(`2024-02-30T10:00:00.000000Z|${randomUUID()}`).toString('base64url')],
    ['extra part', Buffer.from(`2024-11-21T10:00:00.123456Z|${randomUUID()}|x`).toString('base64url')],
  ])('refuses a cursor that is %s', (_what, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
  });
});
