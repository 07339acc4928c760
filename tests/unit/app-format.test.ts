import { expect, test } from 'vitest';
import { policyRows, policyText } from '../../src/app/state/format.ts';
import { DEFAULT_POLICY, POLICY_FIELDS } from '../../src/lib/policy/index.ts';

test('a policy reads as words, from POLICY_FIELDS; a setting no field knows is shown as it came', () => {
  expect(policyText({ timeLimitSeconds: 300, maxOutputBytes: 50 * 1024 * 1024 })).toBe(
    '300 s time limit, 50.0 MiB output cap',
  );
  expect(policyText({ timeLimitSeconds: 3600, futureSetting: 'x' })).toBe('3,600 s time limit, futureSetting: x');
});

test('an invitation’s policy reads as one row per setting: the thresholds in words, what is not stated said so', () => {
  const rows = policyRows({ ...DEFAULT_POLICY, minCellCount: 20 });
  expect(rows.map((r) => r.key)).toEqual(POLICY_FIELDS.map((f) => f.key));
  expect(rows.every((r) => r.stated)).toBe(true);
  expect(Object.fromEntries(rows.map((r) => [r.label, r.value]))).toEqual({
    'Time limit': '600 s',
    'Output cap': '50.0 MiB',
    'Rows held back for the membership audit': '5.0%',
    'Smallest cell': '20',
    'Dominance: largest two records’ share': '90%',
    'Dominance: p-ratio': '10%',
    'Membership attack AUC': '0.6',
    'Numbers in the model per training row': '1',
  });
  expect(rows.find((r) => r.key === 'minCellCount')!.help).toContain('ACRO');
  // An invitation made before the disclosure checks: the rest said to be missing, with the default.
  const older = policyRows({ timeLimitSeconds: 300, maxOutputBytes: 1024 ** 2, futureSetting: 'on' });
  expect(older.filter((r) => r.stated).map((r) => `${r.label}: ${r.value}`)).toEqual([
    'Time limit: 300 s',
    'Output cap: 1.0 MiB',
    'futureSetting: on',
  ]);
  const cell = older.find((r) => r.key === 'minCellCount')!;
  expect(cell).toMatchObject({ value: 'not stated', stated: false });
  expect(cell.help).toContain('default is 10');
});
