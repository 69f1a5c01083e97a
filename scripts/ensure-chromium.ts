import { ensureChromium } from './lib/chromium';

// Run by `pnpm test` before the type-check and jest: the browser tests need Debian's chromium.
try {
  ensureChromium();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
