import { readdirSync, readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join, relative } from 'node:path';
import { ErrorCode, isClientErrorCode } from './errors';

/**
 * The table of error codes against what the code throws: a code anything answers with that is not listed as
 * visible would reach clients as INTERNAL_SERVER_ERROR. AppError only takes listed codes (the type system checks);
 * this test also finds the codes written as plain strings (GraphQLError extensions, per-event results).
 */
const ROOT = join(__dirname, '..', '..', '..');
const SOURCES = ['gateway/src', 'packages/runtime/src', 'packages/plans/src', 'subgraphs'];
/** Sort orders look like codes (`order: { code: 'ASC' }`), and so do the system's socket errors (`code: 'ECONNRESET'`). */
const NOT_CODES = new Set(['ASC', 'DESC', ...Object.keys(constants.errno)]);

function sourceFiles(dir: string): string[] {
  const path = join(ROOT, dir);
  return readdirSync(path).flatMap((name) => {
    const full = join(path, name);
    if (name === 'node_modules' || name === '__generated__' || name === '__tests__') return [];
    if (statSync(full).isDirectory()) return sourceFiles(relative(ROOT, full));
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [full] : [];
  });
}

/** `new AppError(…, 'CODE'`, `super(…, 'CODE'` and `code: 'CODE'`: the codes a source file can answer with. */
function thrownCodes(source: string): string[] {
  const codes = new Set<string>();
  for (const match of source.matchAll(/\bcode: '([A-Z][A-Z0-9_]{2,})'/g)) codes.add(match[1]);
  for (const match of source.matchAll(/(?:new AppError|super)\((?:[^;]|\n)*?,\s*'([A-Z][A-Z0-9_]{2,})'/g)) codes.add(match[1]);
  for (const match of source.matchAll(/ErrorCode\.([A-Z][A-Z0-9_]+)/g)) codes.add(match[1]);
  return [...codes];
}

describe('error codes', () => {
  it('shows every code of the table to clients except INTERNAL_SERVER_ERROR', () => {
    const codes = Object.values(ErrorCode);
    expect(codes).toContain('INTERNAL_SERVER_ERROR');
    expect(codes.filter((code) => !isClientErrorCode(code))).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(isClientErrorCode('SOMETHING_NOBODY_LISTED')).toBe(false);
  });

  it('lists every error code of the contract as visible', () => {
    const contract = readFileSync(join(ROOT, '..', 'shared', 'contract', 'README.md'), 'utf8');
    // the table of codes: from its UNAUTHENTICATED row to the first line that is not a row
    const lines = contract.split('\n');
    const first = lines.findIndex((line) => line.startsWith('| `UNAUTHENTICATED`'));
    const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
    const rows = lines.slice(first, end);
    const listed = rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]));
    expect(listed.length).toBeGreaterThan(8);
    expect(listed.filter((code) => !isClientErrorCode(code))).toEqual([]);
  });

  it('finds no code in the sources that a client would see masked', () => {
    const masked: string[] = [];
    for (const file of SOURCES.flatMap(sourceFiles)) {
      for (const code of thrownCodes(readFileSync(file, 'utf8'))) {
        if (code !== 'INTERNAL_SERVER_ERROR' && !NOT_CODES.has(code) && !isClientErrorCode(code)) masked.push(`${relative(ROOT, file)}: ${code}`);
      }
    }
    expect(masked).toEqual([]);
  });

  it('would catch a new code thrown without being listed', () => {
    expect(thrownCodes(`throw new AppError('no room', 'ROOM_FULL');`)).toEqual(['ROOM_FULL']);
    expect(thrownCodes(`super(\n  'no room',\n  'ROOM_FULL',\n);`)).toEqual(['ROOM_FULL']);
    expect(thrownCodes(`new GraphQLError('x', { extensions: { code: 'ROOM_FULL' } })`)).toEqual(['ROOM_FULL']);
  });
});
