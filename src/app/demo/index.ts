/** The built-in demo: a synthetic hospital table, an expert's wheel and notebook. */
import readmitSource from './readmit.py?raw';
import { buildDemoWheel } from './wheel.ts';
import { demoNotebookJson, DEMO_NOTEBOOK_CELLS } from './notebook.ts';
import { demoTable } from './table.ts';

export { demoTable, demoNotebookJson, DEMO_NOTEBOOK_CELLS };

export function demoWheel() {
  return buildDemoWheel('readmit', '0.3.0', { 'readmit/__init__.py': readmitSource });
}
