import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import config from '../../codegen';

const ROOT = join(__dirname, '..', '..');

describe('codegen', () => {
  it('has one generates entry per subgraph', () => {
    expect(Object.keys(config.generates).sort()).toEqual(
      ['billing', 'catalog', 'media', 'monitoring', 'orders', 'tenancy'].map((n) => `subgraphs/${n}/src/__generated__/resolvers-types.ts`),
    );
  });

  it('matches the committed resolver types (run `pnpm codegen` when this fails)', async () => {
    const outputs = await generate({ ...config, cwd: ROOT }, false);
    expect(outputs).toHaveLength(6);
    for (const { filename, content } of outputs) {
      const committed = readFileSync(join(ROOT, filename), 'utf8');
      expect({ filename, upToDate: committed === content }).toEqual({ filename, upToDate: true });
    }
  });
});
