/**
 * Building a pure-Python wheel (PEP 427, binary distribution format 1.0) without a Python
 * toolchain: the files, then `.dist-info/METADATA` (core metadata 2.1), `WHEEL`, and `RECORD` with
 * each file's urlsafe-base64 SHA-256 and size (PEP 376/627). pip installs the result.
 */
import { zipSync, strToU8 } from 'fflate';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';

export class WheelError extends Error {
  override name = 'WheelError';
}

/** PEP 503 normalisation, then PEP 427's escaping for file names. */
export function wheelDistName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '_');
}

export interface WheelSpec {
  name: string;
  version: string;
  /** Paths inside site-packages (`pkg/__init__.py`) → contents. */
  files: Record<string, Uint8Array | string>;
  summary?: string;
  requiresPython?: string;
}

/**
 * @param options.level deflate level (0 stores files as they are: for large binary data)
 * @returns the wheel's file name and bytes
 * @throws {WheelError} for an invalid name or version, or unsafe file paths.
 */
export function buildWheel(
  spec: WheelSpec,
  options: { level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 } = {},
): { filename: string; bytes: Uint8Array } {
  if (!/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(spec.name))
    throw new WheelError(`"${spec.name}" is not a valid project name (PEP 508)`);
  if (!/^[0-9]+(\.[0-9]+)*([a-z0-9.+!-]*)$/i.test(spec.version))
    throw new WheelError(`"${spec.version}" is not a valid version (PEP 440)`);
  const dist = `${wheelDistName(spec.name)}-${spec.version}`;
  const info = `${dist}.dist-info`;
  const entries: Record<string, Uint8Array> = {};
  for (const [path, content] of Object.entries(spec.files).sort(([a], [b]) => a.localeCompare(b))) {
    if (
      !path ||
      path.startsWith('/') ||
      path.includes('\\') ||
      path.split('/').some((s) => s === '..' || s === '.' || s === '')
    ) {
      throw new WheelError(`unsafe path in wheel: ${path}`);
    }
    if (path.startsWith(info + '/')) throw new WheelError(`${path} would overwrite the wheel's own metadata`);
    entries[path] = typeof content === 'string' ? strToU8(content) : content;
  }
  if (!Object.keys(entries).length) throw new WheelError('the wheel would be empty: no Python files found');
  const meta = [`Metadata-Version: 2.1`, `Name: ${spec.name}`, `Version: ${spec.version}`];
  if (spec.summary) meta.push(`Summary: ${spec.summary.replace(/\s+/g, ' ')}`);
  if (spec.requiresPython) meta.push(`Requires-Python: ${spec.requiresPython}`);
  entries[`${info}/METADATA`] = strToU8(meta.join('\n') + '\n');
  entries[`${info}/WHEEL`] = strToU8(
    'Wheel-Version: 1.0\nGenerator: airlock\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  );
  const record = Object.entries(entries).map(([p, b]) => `${p},sha256=${base64urlnopad.encode(sha256(b))},${b.length}`);
  entries[`${info}/RECORD`] = strToU8([...record, `${info}/RECORD,,`].join('\n') + '\n');
  // A fixed timestamp: the same sources give the same bytes (reproducible builds).
  const bytes = zipSync(
    Object.fromEntries(Object.entries(entries).map(([p, b]) => [p, [b, { mtime: new Date('2000-01-01T00:00:00Z') }]])),
    { level: options.level ?? 6 },
  );
  return { filename: `${dist}-py3-none-any.whl`, bytes };
}

/**
 * Reads `[project] name` and `version` from a pyproject.toml (PEP 621). Only these plain string keys
 * are needed, so this reads them directly rather than parsing all of TOML.
 * @throws {WheelError} when either is missing or dynamic.
 */
export function readPyproject(text: string): {
  name: string;
  version: string;
  summary?: string;
  requiresPython?: string;
} {
  let section = '';
  const found: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!.trim();
      continue;
    }
    if (section !== 'project') continue;
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')\s*$/.exec(line);
    if (kv) found[kv[1]!] = kv[2] ?? kv[3] ?? '';
  }
  if (!found.name) throw new WheelError('pyproject.toml has no [project] name = "…"');
  if (!found.version)
    throw new WheelError('pyproject.toml has no [project] version = "…" (dynamic versions are not supported)');
  return {
    name: found.name,
    version: found.version,
    summary: found.description,
    requiresPython: found['requires-python'],
  };
}
