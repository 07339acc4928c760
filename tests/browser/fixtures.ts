/** Test fixtures built on the fly: wheels with correct (or deliberately wrong) RECORDs, notebooks. */
import { createHash } from 'node:crypto';
import { zipSync, strToU8 } from 'fflate';

export function notebookJson(cells: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: cells.map((source) => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })),
  });
}

function recordHash(b: Uint8Array): string {
  return 'sha256=' + createHash('sha256').update(b).digest('base64url');
}

/**
 * A pure-Python wheel (PEP 427) holding `files` (path → text), with WHEEL, METADATA and RECORD.
 * `tamper` changes a file after RECORD was written, as an attacker in transit would.
 */
export function makeWheel(
  name: string,
  version: string,
  files: Record<string, string>,
  opts: { tamper?: string; extra?: Record<string, string> } = {},
): { filename: string; bytes: Uint8Array } {
  const dist = `${name}-${version}.dist-info`;
  const entries: Record<string, Uint8Array> = {};
  for (const [p, t] of Object.entries(files)) entries[p] = strToU8(t);
  entries[`${dist}/METADATA`] = strToU8(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`);
  entries[`${dist}/WHEEL`] = strToU8(
    'Wheel-Version: 1.0\nGenerator: airlock-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  );
  const record = Object.entries(entries).map(([p, b]) => `${p},${recordHash(b)},${b.length}`);
  record.push(`${dist}/RECORD,,`);
  entries[`${dist}/RECORD`] = strToU8(record.join('\n') + '\n');
  if (opts.tamper) entries[opts.tamper] = strToU8(`${files[opts.tamper] ?? ''}\nprint("tampered")\n`);
  for (const [p, t] of Object.entries(opts.extra ?? {})) entries[p] = strToU8(t);
  return { filename: `${name}-${version}-py3-none-any.whl`, bytes: zipSync(entries) };
}
