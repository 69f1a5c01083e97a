import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { prepareTestPostgres, releaseTestPostgres } from '../jest/test-postgres';

/**
 * `pnpm test:mutation [stryker options]`: StrykerJS over the modules that guard money and tenants (stryker.config.mjs).
 * One PostgreSQL is prepared here and shared by every jest run Stryker starts (jest/global-setup.ts reuses it), then
 * the score of each module is printed from Stryker's JSON report.
 */
const ROOT = resolve(__dirname, '..');
const REPORT = join(ROOT, '.stryker-tmp', 'mutation.json');

interface MutantResult {
  status: string;
}

function scores(): string[] {
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as { files: Record<string, { mutants: MutantResult[] }> };
  const lines = ['module | mutants | killed | survived | no coverage | score'];
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const count = (...statuses: string[]) => mutants.filter((m) => statuses.includes(m.status)).length;
    const detected = count('Killed', 'Timeout');
    const valid = mutants.length - count('CompileError', 'RuntimeError', 'Ignored');
    const score = valid ? ((100 * detected) / valid).toFixed(1) : 'n/a';
    lines.push(`${relative(ROOT, resolve(ROOT, file))} | ${valid} | ${detected} | ${count('Survived')} | ${count('NoCoverage')} | ${score} %`);
  }
  return lines;
}

async function main(): Promise<void> {
  const started = Date.now();
  process.stdout.write('[mutation] preparing one PostgreSQL for every jest run\n');
  const postgres = await prepareTestPostgres();
  let code = 1;
  try {
    code = await new Promise<number>((done) => {
      const child = spawn(join(ROOT, 'node_modules', '.bin', 'stryker'), ['run', ...process.argv.slice(2)], {
        cwd: ROOT,
        stdio: 'inherit',
        env: { ...process.env, TIERGRAPH_TEST_SHARED_POSTGRES: '1' },
      });
      child.once('exit', (exitCode) => done(exitCode ?? 1));
    });
  } finally {
    await releaseTestPostgres(postgres);
  }
  if (code === 0) for (const line of scores()) process.stdout.write(`[mutation] ${line}\n`);
  process.stdout.write(`[mutation] finished in ${((Date.now() - started) / 60_000).toFixed(1)} min (report: ${relative(ROOT, REPORT)})\n`);
  process.exit(code);
}

void main();
