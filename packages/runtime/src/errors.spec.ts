import { GraphQLError } from 'graphql';
import { QueryFailedError, QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { BadUserInputError, isDatabaseUnavailable, maskInternalError, rethrowUniqueViolation } from './errors';

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

describe('a database that cannot be reached: DATABASE_UNAVAILABLE, retryable', () => {
  const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  /** As a resolver's error reaches formatError: a GraphQLError whose originalError is TypeORM's, wrapping the driver's. */
  const asResolved = (driverError: Error) =>
    new GraphQLError('x', { originalError: new QueryFailedError('INSERT …', [], driverError) });

  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['refused on every address (AggregateError)', new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })], '')],
    ['57P01 admin_shutdown', pgError('57P01', 'terminating connection due to administrator command')],
    ['57P03 cannot_connect_now', pgError('57P03', 'the database system is starting up')],
    ['08006 connection_failure', pgError('08006')],
    ['57P05 idle_session_timeout', pgError('57P05')],
    ['53300 too_many_connections', pgError('53300', 'sorry, too many clients already')],
    ["the database's host not found (a container restarting)", Object.assign(new Error('getaddrinfo ENOTFOUND postgres'), { code: 'ENOTFOUND' })],
    ['the socket ended under a query', new Error('Connection terminated unexpectedly')],
    ['the pool could not connect in time', new Error('timeout exceeded when trying to connect')],
    ['a transaction whose connection was dropped goes on', new QueryRunnerAlreadyReleasedError()],
    ['… or runs a statement through the manager', new QueryRunnerProviderAlreadyReleasedError()],
    ["pg's connect failure thrown as a plain object (graphql-js: NonErrorThrown)", { errno: -111, code: 'ECONNREFUSED', syscall: 'connect' }],
    ['a connection reset while connecting (a server going down)', { errno: -104, code: 'ECONNRESET', syscall: 'connect' }],
  ])('%s', (_what, driverError) => {
    const error = driverError instanceof Error ? asResolved(driverError) : new GraphQLError('x', { originalError: Object.assign(new Error('Unexpected error value'), { thrownValue: driverError }) });
    expect(isDatabaseUnavailable(error)).toBe(true);
    const logged: unknown[] = [];
    const out = maskInternalError({ message: 'x', path: ['createProduct'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }, 'req-9', (d) => logged.push(d), error);
    expect(out).toEqual({
      message: 'the database is unavailable at the moment; retry the request',
      path: ['createProduct'],
      locations: undefined,
      extensions: { code: 'DATABASE_UNAVAILABLE', retryable: true, requestId: 'req-9' },
    });
    expect(logged).toHaveLength(1);
  });

  it.each([
    ['a unique violation', pgError('23505')],
    ['a syntax error', pgError('42601')],
    ['08P01 protocol_violation (a bind message with the wrong number of parameters: a bug)', pgError('08P01', 'bind message supplies 1 parameters, but prepared statement "" requires 2')],
    ['57014 query_canceled (a statement timeout, not a server that is gone)', pgError('57014')],
    ['an error without a code', new Error('relation "x" does not exist')],
  ])('not for %s: still INTERNAL_SERVER_ERROR', (_what, driverError) => {
    const error = asResolved(driverError);
    expect(isDatabaseUnavailable(error)).toBe(false);
    const out = maskInternalError({ message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, 'req-10', () => undefined, error);
    expect(out.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: 'req-10' });
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
