import { BadUserInputError, maskInternalError, rethrowUniqueViolation } from './errors';

describe('maskInternalError', () => {
  it('passes contract errors through without stack traces', () => {
    const logged: unknown[] = [];
    const out = maskInternalError(
      { message: 'bad', extensions: { code: 'BAD_USER_INPUT', field: 'code', stacktrace: ['x'] } },
      'req-1',
      (d) => logged.push(d),
    );
    expect(out).toEqual({ message: 'bad', extensions: { code: 'BAD_USER_INPUT', field: 'code' } });
    expect(logged).toHaveLength(0);
  });

  it('masks anything else, keeps the path, adds the request id and logs the original', () => {
    const logged: Array<{ requestId?: string }> = [];
    const out = maskInternalError(
      { message: 'relation "x" does not exist', path: ['a'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at …'] } },
      'req-2',
      (d) => logged.push(d),
    );
    expect(out).toEqual({ message: 'Internal server error', path: ['a'], locations: undefined, extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-2' } });
    expect(logged.map((l) => l.requestId)).toEqual(['req-2']);
  });
});

describe('rethrowUniqueViolation', () => {
  const map = { things_code_key: ['code', 'taken'] as [string, string] };

  it('maps a known constraint to BAD_USER_INPUT with the field', () => {
    expect(() => rethrowUniqueViolation({ driverError: { code: '23505', constraint: 'things_code_key' } }, map)).toThrow(BadUserInputError);
    let thrown: unknown = 'nothing was thrown';
    try {
      rethrowUniqueViolation({ code: '23505', constraint: 'things_code_key' }, map);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BadUserInputError);
    expect((thrown as BadUserInputError).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'code' });
  });

  it('rethrows other errors unchanged', () => {
    const other = { code: '23503', constraint: 'fk' };
    expect(() => rethrowUniqueViolation(other, map)).toThrow(expect.objectContaining(other));
    const unknownUnique = { code: '23505', constraint: 'other_key' };
    expect(() => rethrowUniqueViolation(unknownUnique, map)).toThrow(expect.objectContaining(unknownUnique));
  });
});
