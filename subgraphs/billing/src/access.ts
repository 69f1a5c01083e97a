import { ForbiddenError, type Caller } from '@tiergraph/runtime';

/** Admin views and internal reads: admins, and the other subgraphs with a service token. */
export function requireAdminOrService(caller: Caller): void {
  if (caller.role !== 'admin' && caller.role !== 'service') throw new ForbiddenError('this operation needs the admin role');
}
