/**
 * One check of the review, as the owner reads it: what was measured, against what threshold, the
 * verdict, and why in one sentence a data steward understands. Every check of the gate, per file or
 * for the whole run, is one of these (the disclosure checks add theirs); the receipt records them.
 */
export interface GateCheck {
  /** Stable id: `declared`, `size`, `type`, `identifiers`, `review`, `tripwires`, and the disclosure checks'. */
  id: string;
  /** The output it is about; absent for the run as a whole. */
  file?: string;
  /** A few words: "Identifying values". */
  title: string;
  /** `failed` blocks the export (until the owner overrides it for this run, with a reason). */
  verdict: 'passed' | 'failed' | 'not-applicable';
  /** What was measured, in words ("3 values of encounters.patient_nbr"). */
  measured?: string;
  /** The threshold it is held to ("none"). */
  threshold?: string;
  /** Why, in one sentence. */
  reason: string;
  /** What to do about a failure. */
  suggestion?: string;
  /** The figures, for machines (the receipt, `--json`). */
  figures?: Record<string, number | string | boolean>;
}
