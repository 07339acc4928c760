/**
 * Builds the demo's wheel in the browser: a PEP 427 zip with METADATA, WHEEL and a RECORD of
 * sha256 hashes, exactly what the sandbox's installer verifies.
 */
import { zipSync, strToU8 } from 'fflate';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';
import type { WheelFile } from '../../lib/sandbox/index.ts';

export function buildDemoWheel(name: string, version: string, files: Record<string, string>): WheelFile {
  const dist = `${name}-${version}.dist-info`;
  const entries: Record<string, Uint8Array> = {};
  for (const [path, text] of Object.entries(files)) entries[path] = strToU8(text);
  entries[`${dist}/METADATA`] = strToU8(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`);
  entries[`${dist}/WHEEL`] = strToU8('Wheel-Version: 1.0\nGenerator: airlock-demo\nRoot-Is-Purelib: true\nTag: py3-none-any\n');
  const record = Object.entries(entries).map(([p, b]) => `${p},sha256=${base64urlnopad.encode(sha256(b))},${b.length}`);
  entries[`${dist}/RECORD`] = strToU8([...record, `${dist}/RECORD,,`].join('\n') + '\n');
  const bytes = zipSync(entries);
  return { filename: `${name}-${version}-py3-none-any.whl`, bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
}
