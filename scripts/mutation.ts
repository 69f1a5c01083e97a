import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { prepareTestPostgres, releaseTestPostgres } from '../jest/test-postgres';

/**
 * `pnpm test:mutation [module …] [-- stryker options]`: StrykerJS over the modules that guard money and tenants, each
 * against its own guarding suites (mutation.modules.js; all of them when none is named). One PostgreSQL is prepared
 * here and shared by every jest run Stryker starts (jest/global-setup.ts reuses it); each module's report is kept as
 * `.stryker-tmp/<module>.json`, and a table of scores is printed at the end.
 */
const ROOT = resolve(__dirname, '..');
const REPORTS = join(ROOT, '.stryker-tmp');
const modules = require('../mutation.modules') as Record<string, { mutate: string; tests: string[] }>;

interface Score {
  module: string;
  file: string;
  mutants: number;
  detected: number;
  survived: number;
  noCoverage: number;
}

function scoreOf(module: string, reportFile: string): Score {
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { files: Record<string, { mutants: Array<{ status: string }> }> };
  const [[file, { mutants }]] = Object.entries(report.files);
  const count = (...statuses: string[]) => mutants.filter((m) => statuses.includes(m.status)).length;
  return {
    module,
    file: relative(ROOT, resolve(ROOT, file)),
    mutants: mutants.length - count('CompileError', 'RuntimeError', 'Ignored'),
    detected: count('Killed', 'Timeout'),
    survived: count('Survived'),
    noCoverage: count('NoCoverage'),
  };
}

function runStryker(module: string, extra: string[]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'stryker'), ['run', '--mutate', modules[module].mutate, ...extra], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, TIERGRAPH_TEST_SHARED_POSTGRES: '1', TIERGRAPH_MUTATION_MODULE: module },
    });
    child.once('exit', (code) => done(code ?? 1));
  });
}

async function main(): Promise<void> {
  const split = process.argv.indexOf('--');
  const named = process.argv.slice(2, split < 0 ? undefined : split);
  const extra = split < 0 ? [] : process.argv.slice(split + 1);
  const unknown = named.filter((name) => !modules[name]);
  if (unknown.length) {
    process.stderr.write(`unknown module ${unknown.join(', ')}; the modules are: ${Object.keys(modules).join(', ')}\n`);
    process.exit(2);
  }
  const chosen = named.length ? named : Object.keys(modules);
  const started = Date.now();
  process.stdout.write(`[mutation] ${chosen.join(', ')}: preparing one PostgreSQL for every jest run\n`);
  const postgres = await prepareTestPostgres();
  const scores: Score[] = [];
  let failed = false;
  try {
    for (const module of chosen) {
      const suites = process.env.TIERGRAPH_MUTATION_TESTS?.split(',') ?? modules[module].tests;
      process.stdout.write(`[mutation] ${module}: ${modules[module].mutate} against ${suites.join(', ')}\n`);
      if ((await runStryker(module, extra)) !== 0) {
        failed = true;
        process.stdout.write(`[mutation] ${module}: stryker failed\n`);
        continue;
      }
      mkdirSync(REPORTS, { recursive: true });
      const kept = join(REPORTS, `${module}.json`);
      copyFileSync(join(REPORTS, 'mutation.json'), kept);
      scores.push(scoreOf(module, kept));
    }
  } finally {
    await releaseTestPostgres(postgres);
  }
  process.stdout.write('[mutation] module | file | mutants | killed or timed out | survived | no coverage | score\n');
  for (const s of scores) {
    const score = s.mutants ? `${((100 * s.detected) / s.mutants).toFixed(1)} %` : 'n/a';
    process.stdout.write(`[mutation] ${s.module} | ${s.file} | ${s.mutants} | ${s.detected} | ${s.survived} | ${s.noCoverage} | ${score}\n`);
  }
  process.stdout.write(`[mutation] finished in ${((Date.now() - started) / 60_000).toFixed(1)} min; reports in ${relative(ROOT, REPORTS)}/<module>.json\n`);
  process.exit(failed ? 1 : 0);
}

void main();
