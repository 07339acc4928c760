/**
 * `npm run bench`: every benchmark in one run, each beside its baseline measured in the same run.
 * Prints a Markdown table (paste it into docs/BENCHMARKS.md) and writes bench-results/latest.json.
 * `npm run bench -- sandbox` runs one section (sandbox, bundle, data, page).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT, findChromium } from '../browser/harness.ts';
import { toMarkdown, type BenchRow } from './report.ts';
import { benchSandbox } from './sandbox.ts';
import { benchBundle } from './bundle.ts';
import { benchData } from './data.ts';
import { benchPage } from './page.ts';
import { benchDisclosure } from './disclosure.ts';

const sections: Record<string, (log: (s: string) => void) => Promise<BenchRow[]>> = {
  sandbox: benchSandbox,
  bundle: benchBundle,
  data: benchData,
  page: benchPage,
  disclosure: benchDisclosure,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const log = (s: string) => process.stderr.write(s + '\n');
const rows: BenchRow[] = [];
for (const [name, fn] of Object.entries(sections)) {
  if (wanted.length && !wanted.includes(name)) continue;
  log(`bench: ${name}…`);
  rows.push(...(await fn(log)));
}
const env = `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, browser ${findChromium() ?? "Playwright's Chromium"}`;
const md = `Measured ${env}\n\n${toMarkdown(rows)}\n`;
mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
writeFileSync(join(ROOT, 'bench-results', 'latest.json'), JSON.stringify({ env, rows }, null, 2));
writeFileSync(join(ROOT, 'bench-results', 'latest.md'), md);
process.stdout.write(md);
