/**
 * A room's policy: what it allows a run and what its outputs must pass. The expert sees it in the
 * invitation before writing code; every receipt records it; the owner edits it in the Room tab
 * (rendered from {@link POLICY_FIELDS}) and the CLI takes it as flags or a policy file. One place
 * describes each setting, so the editor, the invitation and the checks never disagree.
 *
 * The disclosure settings (docs/DISCLOSURE.md) follow the anchors each one cites there: ACRO's
 * defaults for tables (a cell of at least 10 people, the 2-record dominance rule at 90 %, the
 * p-ratio at 10 %), a looser form of SACRO-ML's residual degrees of freedom for model size, and a membership
 * attack measured on rows the notebook never saw.
 */
export interface RunPolicy {
  timeLimitSeconds: number;
  maxOutputBytes: number;
  /**
   * Share of each table's rows held back from the notebook for the membership audit. Used only when
   * the bundle declares an inference entry point and a label (the audit needs both); 0: none.
   */
  holdout: number;
  /** Fewest people a cell of a table of results may describe (ACRO `safe_threshold`). */
  minCellCount: number;
  /** Largest share of a cell's total its two largest contributions may make (ACRO N-K rule, n = 2). */
  dominance: number;
  /** Smallest share of the largest contribution the rest of a cell must make beyond the top two (ACRO p-ratio). */
  pRatio: number;
  /** Largest AUC the membership attack may reach on the held-back rows. */
  maxMembershipAuc: number;
  /** Most numbers the outputs (beside tables of groups) may hold per training row. */
  maxParamsPerRow: number;
}

export const DEFAULT_POLICY: RunPolicy = {
  timeLimitSeconds: 600,
  maxOutputBytes: 50 * 1024 * 1024,
  holdout: 0.05,
  minCellCount: 10,
  dominance: 0.9,
  pRatio: 0.1,
  maxMembershipAuc: 0.6,
  maxParamsPerRow: 1,
};

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
    help: 'A run is stopped after this long, Python’s start, the output review and the membership audit included.',
  },
  {
    key: 'maxOutputBytes',
    label: 'Output cap',
    unit: 'bytes',
    min: 1,
    max: 2 * 1024 ** 3,
    help: 'All the files a run may write, together; a model rarely needs more than a few megabytes.',
  },
  {
    key: 'holdout',
    label: 'Rows held back for the membership audit',
    unit: 'share',
    min: 0,
    max: 0.5,
    help: 'This share of each table’s rows never reaches the notebook; after the run the model is asked about them and about as many rows it saw, to measure whether it can tell them apart (only when the bundle declares an inference entry point and a label; 0 turns the audit off).',
  },
  {
    key: 'minCellCount',
    label: 'Smallest cell',
    unit: 'count',
    min: 1,
    max: 1000,
    help: 'A number in a table of results must describe at least this many people, counted in your data; 10 is the threshold of ACRO, the UK trusted research environments’ output checker.',
  },
  {
    key: 'dominance',
    label: 'Dominance: largest two records’ share',
    unit: 'share',
    min: 0.5,
    max: 1,
    help: 'A sum or mean in a table may not be made mostly of two people’s values: the largest two may make at most this share of the cell’s total (ACRO’s N-K rule, 90 %).',
  },
  {
    key: 'pRatio',
    label: 'Dominance: p-ratio',
    unit: 'share',
    min: 0,
    max: 1,
    help: 'Beyond its two largest values, the rest of a cell must add up to at least this share of the largest one, or the second person could estimate the first’s value (ACRO’s p-ratio, 10 %).',
  },
  {
    key: 'maxMembershipAuc',
    label: 'Membership attack AUC',
    unit: 'ratio',
    min: 0.5,
    max: 1,
    help: 'How well the model may tell rows it trained on from rows it never saw; 0.5 is chance. A memorising model scores near 1 and a regularised one near 0.5 (measured on the real data, docs/DISCLOSURE.md); a failure must also be unlikely by chance (p < 0.05).',
  },
  {
    key: 'maxParamsPerRow',
    label: 'Numbers in the model per training row',
    unit: 'ratio',
    min: 0,
    max: 1_000_000,
    help: 'A model that holds as many numbers as there are people can hold something about each of them; 1 is a looser form of SACRO-ML’s residual degrees of freedom rule (training rows minus parameters at least 10).',
  },
];

/**
 * A policy with every setting checked against its field's range, and no setting it does not know.
 * @returns the problems, one sentence each (empty when the policy is valid)
 */
export function policyProblems(p: Partial<RunPolicy>): string[] {
  const out: string[] = [];
  const known = new Set<string>(POLICY_FIELDS.map((f) => f.key));
  for (const k of Object.keys(p)) if (!known.has(k)) out.push(`the policy has no setting "${k.slice(0, 40)}"`);
  for (const f of POLICY_FIELDS) {
    const v = p[f.key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < f.min || v > f.max) {
      out.push(`${f.label} must be a number from ${f.min} to ${f.max} (${f.unit})`);
    } else if (f.unit === 'count' && !Number.isInteger(v)) {
      out.push(`${f.label} must be a whole number`);
    }
  }
  return out;
}
