/**
 * The demo's stand-in for a hospital table: synthetic encounters whose readmission risk depends on
 * the features, generated deterministically in the browser (real data never ships with the app).
 */
import type { SandboxTable } from '../../lib/sandbox/index.ts';
import { seededRandom } from '../../lib/data/index.ts';

export function demoTable(rows = 5000, seed = 130): SandboxTable {
  const r = seededRandom(seed);
  const id = new Int32Array(rows);
  const age = new Int32Array(rows);
  const days = new Int32Array(rows);
  const meds = new Int32Array(rows);
  const inpatient = new Int32Array(rows);
  const readmitted = new Uint8Array(rows);
  const ward = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    id[i] = 100_000 + Math.floor(r() * 900_000);
    age[i] = 20 + Math.floor(r() * 70);
    days[i] = 1 + Math.floor(r() * r() * 14);
    meds[i] = Math.floor(r() * 40);
    inpatient[i] = r() < 0.7 ? 0 : Math.floor(r() * 5);
    ward[i] = Math.floor(r() * 3);
    const z = -2.2 + 0.02 * (age[i]! - 55) + 0.08 * days[i]! + 0.03 * meds[i]! + 0.45 * inpatient[i]!;
    readmitted[i] = r() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return {
    name: 'encounters',
    rowCount: rows,
    columns: [
      { name: 'encounter_id', type: 'int', values: id },
      { name: 'age', type: 'int', values: age },
      { name: 'time_in_hospital', type: 'int', values: days },
      { name: 'num_medications', type: 'int', values: meds },
      { name: 'number_inpatient', type: 'int', values: inpatient },
      { name: 'ward', type: 'string', values: ward, dictionary: ['cardiology', 'general', 'neurology'] },
      { name: 'readmitted', type: 'bool', values: readmitted },
    ],
  };
}
