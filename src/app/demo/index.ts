/** The built-in demo: a synthetic hospital table, an expert's wheel and notebook. */
import readmitSource from './readmit.py?raw';
import { buildWheel } from '../../lib/wheel/index.ts';
import type { WheelFile } from '../../lib/sandbox/index.ts';
import { demoNotebookJson, DEMO_NOTEBOOK_CELLS } from './notebook.ts';
import { demoTable } from './table.ts';

export { demoTable, demoNotebookJson, DEMO_NOTEBOOK_CELLS };

export function demoWheel(): WheelFile {
  const { filename, bytes } = buildWheel({
    name: 'readmit',
    version: '0.3.0',
    files: { 'readmit/__init__.py': readmitSource },
  });
  return { filename, bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
}
