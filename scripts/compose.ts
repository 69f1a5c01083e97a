import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { composeSupergraph, SUPERGRAPH_PATH } from './lib/compose';

const { supergraphSdl, errors, hints } = composeSupergraph();
for (const hint of hints) console.warn(`hint: ${hint}`);
if (!supergraphSdl) {
  for (const error of errors) console.error(`error: ${error}`);
  console.error(`composition failed with ${errors.length} error(s); ${relative(process.cwd(), SUPERGRAPH_PATH)} is unchanged`);
  process.exit(1);
}
writeFileSync(SUPERGRAPH_PATH, supergraphSdl);
console.log(`wrote ${relative(process.cwd(), SUPERGRAPH_PATH)}${hints.length ? ` (${hints.length} hint(s) above: fix them)` : ''}`);
