import { addStoreUserInput, createPlatformInput, createStoreInput, parseInput } from './validation';

function fieldOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return (error as { extensions?: { code?: string; field?: string } }).extensions;
  }
  return 'no error';
}

describe('tenancy input validation', () => {
  it.each(['a', 'UPPER', 'has space', 'under_score', 'x'.repeat(65), ''])('refuses the code %p', (code) => {
    expect(fieldOf(() => parseInput(createPlatformInput, { code, name: 'P' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'code' });
  });

  it.each(['ab', 'shop-1', 'x'.repeat(64)])('accepts the code %p', (code) => {
    expect(parseInput(createPlatformInput, { code, name: 'P' }).code).toBe(code);
  });

  it('refuses a blank name and trims a good one', () => {
    expect(fieldOf(() => parseInput(createStoreInput, { merchantId: 'm', platformId: 'p', code: 'ok', name: '   ' }))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'name',
    });
    expect(parseInput(createStoreInput, { merchantId: 'm', platformId: 'p', code: 'ok', name: '  Shop ' }).name).toBe('Shop');
  });

  it('refuses malformed emails and normalises good ones to lower case', () => {
    for (const email of ['nope', 'a@', '@b.com', 'a b@c.com']) {
      expect(fieldOf(() => parseInput(addStoreUserInput, { storeId: 's', email, role: 'MEMBER' }))).toEqual({
        code: 'BAD_USER_INPUT',
        field: 'email',
      });
    }
    expect(parseInput(addStoreUserInput, { storeId: 's', email: ' Ana@Example.COM ', role: 'OWNER' }).email).toBe('ana@example.com');
  });
});
