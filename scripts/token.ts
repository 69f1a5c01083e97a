import { parseArgs } from 'node:util';
import { DEFAULT_JWT_SECRET, ROLES, signToken, type Role } from '@tiergraph/runtime';

const usage = `usage: pnpm token --role admin|service
       pnpm token --role merchant --merchant-id <id>
       pnpm token --role store --merchant-id <id> --store-id <id>
options: --sub <user id>  --expires-in <e.g. 12h, 7d>   (signs with AUTH_JWT_SECRET, default: the development secret)`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      role: { type: 'string' },
      'merchant-id': { type: 'string' },
      'store-id': { type: 'string' },
      sub: { type: 'string' },
      'expires-in': { type: 'string', default: '12h' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const role = values.role as Role | undefined;
if (!role || !ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`);
if ((role === 'merchant' || role === 'store') && !values['merchant-id']) fail(`--role ${role} needs --merchant-id`);
if (role === 'store' && !values['store-id']) fail('--role store needs --store-id');

// The one process.env read outside an env.ts: a CLI that only signs.
const secret = process.env.AUTH_JWT_SECRET || DEFAULT_JWT_SECRET;
signToken(
  secret,
  { role, sub: values.sub, merchantId: values['merchant-id'], storeId: values['store-id'] },
  values['expires-in'],
).then((token) => console.log(token));
