import { expect, test } from 'vitest';
import { policyText } from '../../src/app/state/format.ts';

test('a policy reads as words, from POLICY_FIELDS; a setting no field knows is shown as it came', () => {
  expect(policyText({ timeLimitSeconds: 300, maxOutputBytes: 50 * 1024 * 1024 })).toBe(
    '300 s time limit, 50.0 MiB output cap',
  );
  expect(policyText({ timeLimitSeconds: 3600, futureSetting: 'x' })).toBe('3,600 s time limit, futureSetting: x');
});
