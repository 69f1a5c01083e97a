import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_MISSING, CHROMIUM_PATH } from '../scripts/lib/chromium';

/**
 * Flags that work here as root, without a network: no sandbox (root), no GPU, and none of Chromium's background
 * calls home. Playwright adds its own headless flags and a new empty profile (--user-data-dir) per launch.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless Debian chromium driven by playwright-core (`pnpm test` installs it first, see scripts/lib/chromium.ts). */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(CHROMIUM_MISSING);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface PageServer {
  /** `http://127.0.0.1:<port>`: what the browser sends as Origin from this page. */
  origin: string;
  close(): Promise<void>;
}

/** Serves one HTML page at `/` on its own loopback port, so that the page has an origin of its own. */
export function servePage(html: string): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
