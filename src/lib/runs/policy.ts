/**
 * A room's policy: what it allows a run and what its outputs must pass. The expert sees it in the
 * invitation before writing code; every receipt records it; the owner edits it in the Room tab
 * (rendered from {@link POLICY_FIELDS}) and the CLI takes it as flags or a policy file. One place
 * describes each setting, so the editor, the invitation and the checks never disagree.
 */
export interface RunPolicy {
  timeLimitSeconds: number;
  maxOutputBytes: number;
}

export const DEFAULT_POLICY: RunPolicy = { timeLimitSeconds: 600, maxOutputBytes: 50 * 1024 * 1024 };

/** How the Room tab shows and checks one setting. */
export interface PolicyField {
  key: keyof RunPolicy;
  label: string;
  /** What the number is counted in, as the owner reads it. */
  unit: 'seconds' | 'bytes' | 'count' | 'share' | 'ratio';
  min: number;
  max: number;
  /** One sentence: what it means and why the default. */
  help: string;
}

export const POLICY_FIELDS: PolicyField[] = [
  {
    key: 'timeLimitSeconds',
    label: 'Time limit',
    unit: 'seconds',
    min: 1,
    max: 24 * 3600,
    help: 'A run is stopped after this long, Python’s start and the output review included.',
  },
  {
    key: 'maxOutputBytes',
    label: 'Output cap',
    unit: 'bytes',
    min: 1,
    max: 2 * 1024 ** 3,
    help: 'All the files a run may write, together; a model rarely needs more than a few megabytes.',
  },
];

/**
 * A policy with every setting checked against its field's range.
 * @returns the problems, one sentence each (empty when the policy is valid)
 */
export function policyProblems(p: Partial<RunPolicy>): string[] {
  const out: string[] = [];
  for (const f of POLICY_FIELDS) {
    const v = p[f.key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < f.min || v > f.max) {
      out.push(`${f.label} must be a number from ${f.min} to ${f.max} (${f.unit})`);
    }
  }
  return out;
}
