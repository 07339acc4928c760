import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findChromium } from './harness.ts';

/** Fails early, with what to do, when the build or a browser is missing. */
export default function setup(): void {
  const dist = join(resolve(import.meta.dirname, '../..'), 'dist', 'index.html');
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm test` (it builds first) or `npx vite build`.');
  const chromium = findChromium();
  console.log(
    chromium
      ? `browser tests: ${chromium}`
      : "browser tests: no system Chromium found; using Playwright's own (npx playwright install chromium)",
  );
}
