/**
 * The membership audit after a run (docs/DISCLOSURE.md): the rows held back from the notebook and
 * as many rows it saw are scored through the bundle's inference entry point, in a fresh sandbox
 * with the bundle's wheels and the run's outputs as read-only inputs — the same fixed cell as any
 * scoring run (inference.ts), so the entry point cannot tell an audit from use. The scores and the
 * true labels go to the gate's membership attack (gate/membership.ts).
 *
 * Its time counts inside the run's time limit: it gets what the notebook and the review left.
 */
import { membershipAttack, membershipCheck, type GateCheck } from '../gate/index.ts';
import {
  runNotebook,
  type OutputFile,
  type PyodideAssets,
  type SandboxEvent,
  type SandboxTable,
} from '../sandbox/index.ts';
import { AUDIT_ROWS, draw, seededRandom, subsetTable } from './holdout.ts';
import { inferenceRun } from './inference.ts';

export interface AuditInput {
  seed: string;
  /** The whole table (held rows included), under the name the notebook reads it by. */
  table: SandboxTable;
  /** Rows held back, in the order drawn; rows the notebook saw. */
  held: Int32Array;
  visible: Int32Array;
  label: { column: string; positive?: string };
  entry: { module: string; function: string };
  wheels: Array<{ filename: string; bytes: Uint8Array }>;
  /** The run's outputs: the model the entry point reads. */
  outputs: OutputFile[];
  assets: PyodideAssets | Promise<PyodideAssets>;
  timeLimitMs: number;
  maxOutputBytes: number;
  maxAuc: number;
  signal?: AbortSignal;
  onEvent?: (e: SandboxEvent) => void;
}

/** Each row's label as 0/1, or null where missing; an error sentence when the label cannot be read. */
export function labelsOf(t: SandboxTable, label: { column: string; positive?: string }): Array<0 | 1 | null> | string {
  const c = t.columns.find((x) => x.name === label.column);
  if (!c) return `the bundle's label column "${label.column}" is not a column of the table "${t.name}"`;
  const present = (i: number) => !c.valid || !!c.valid[i];
  if (c.type === 'string') {
    if (label.positive === undefined)
      return `the label "${label.column}" is a text column and the bundle names no positive value (seal with --label ${label.column}=<value>)`;
    const code = (c.dictionary ?? []).indexOf(label.positive);
    if (code < 0) return `the label's positive value "${label.positive}" is not a value of ${label.column}`;
    return [...c.values].map((v) => (v < 0 ? null : v === code ? 1 : 0));
  }
  if (c.type === 'datetime') return `the label "${label.column}" is a date column`;
  return [...c.values].map((v, i) =>
    !present(i) || Number.isNaN(v)
      ? null
      : (label.positive !== undefined ? String(v) === label.positive : v !== 0)
        ? 1
        : 0,
  );
}

/** Reads the fixed cell's scores.csv: one probability per row, in order. */
export function parseScores(bytes: Uint8Array | undefined, rows: number): number[] | string {
  if (!bytes) return 'the entry point wrote no scores';
  const lines = new TextDecoder().decode(bytes).split(/\r?\n/).filter(Boolean);
  if (lines[0] !== 'row,score') return 'the scores file does not start with its header';
  const scores: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const [row, score] = lines[i]!.split(',');
    const p = Number(score);
    if (Number(row) !== i - 1 || !Number.isFinite(p) || p < 0 || p > 1)
      return `the entry point returned "${String(score).slice(0, 40)}" for row ${i - 1}: it must return a probability from 0 to 1 per row`;
    scores.push(p);
  }
  if (scores.length !== rows) return `the entry point returned ${scores.length} scores for ${rows} rows`;
  return scores;
}

/** An audit under way: its sandbox starts while the notebook that makes the model still runs. */
export interface PendingAudit {
  /**
   * Hands over the run's outputs (the model) and returns the gate's membership row. Only the entry
   * point's scoring is left by then: Python started, the wheels were installed and the rows mounted
   * while the notebook ran. `ms` in the row's figures is that remaining part, the time the audit adds.
   */
  finish(outputs: OutputFile[]): Promise<GateCheck>;
  /** Stops the audit (the run failed, or was cancelled); safe to call at any time, and again. */
  cancel(): void;
}

/**
 * Starts the audit: the rows to score are known before the notebook runs (the seed draws them), so
 * a fresh sandbox boots and mounts them beside the notebook's, and waits for the model. The two
 * sandboxes share nothing; the audit's sees only the rows it scores and, later, the outputs.
 * Never throws for what the entry point does.
 */
export function startAudit(input: Omit<AuditInput, 'outputs'>): PendingAudit {
  const done = (check: GateCheck) => settledAudit(check);
  const labels = labelsOf(input.table, input.label);
  if (typeof labels === 'string') return done(membershipCheck({ error: labels }, input.maxAuc));
  // Only rows with a label; up to AUDIT_ROWS held rows (the first drawn), and as many the notebook saw.
  const held = input.held.filter((r) => labels[r] !== null).slice(0, AUDIT_ROWS);
  const seen = draw(
    input.visible.filter((r) => labels[r] !== null),
    held.length,
    seededRandom(input.seed, `${input.table.name}/members`),
  );
  if (held.length < 20 || seen.length < held.length)
    return done(
      membershipCheck({ notApplicable: 'too few labelled rows were held back to measure anything' }, input.maxAuc),
    );
  // Held and seen rows mixed in a seeded order: their position says nothing.
  const all = Int32Array.from([...held, ...seen]);
  const order = draw(Int32Array.from(all.keys()), all.length, seededRandom(input.seed, 'order'));
  const rows = Int32Array.from(order, (k) => all[k]!);
  const member = [...order].map((k) => k >= held.length);

  const stop = new AbortController();
  const abort = () => stop.abort();
  input.signal?.addEventListener('abort', abort, { once: true });
  let handOver!: (outputs: OutputFile[]) => void;
  let withdraw!: (e: Error) => void;
  const model = new Promise<OutputFile[]>((resolve, reject) => {
    handOver = resolve;
    withdraw = reject;
  });
  const entry = input.entry;
  const report = runNotebook({
    notebook: inferenceRun(entry, input.table.name, []).notebook,
    inputs: model.then((outputs) => inferenceRun(entry, input.table.name, outputs).inputs),
    wheels: input.wheels.map((w) => ({ filename: w.filename, bytes: w.bytes })),
    tables: [subsetTable(input.table, rows)],
    limits: { timeLimitMs: Math.max(1, input.timeLimitMs), maxOutputBytes: input.maxOutputBytes },
    assets: input.assets,
    signal: stop.signal,
  }).finally(() => input.signal?.removeEventListener('abort', abort));
  report.catch(() => {});
  const cancel = () => {
    withdraw(new Error('the run ended without a model to audit'));
    stop.abort();
  };
  return {
    cancel,
    async finish(outputs) {
      const t0 = performance.now();
      input.onEvent?.({ type: 'stage', stage: 'membership audit' });
      handOver(outputs);
      const r = await report;
      if (r.status !== 'ok') {
        const why =
          r.cells
            .find((c) => !c.ok)
            ?.error?.trim()
            .split('\n')
            .at(-1) ?? r.message;
        return membershipCheck(
          { error: r.status === 'timeout' ? `it did not finish within the run's time limit (${why})` : why },
          input.maxAuc,
        );
      }
      const scores = parseScores(r.outputs.find((o) => o.path === 'scores.csv')?.bytes, rows.length);
      if (typeof scores === 'string') return membershipCheck({ error: scores }, input.maxAuc);
      const result = membershipAttack({
        scores,
        labels: [...rows].map((k) => labels[k] as 0 | 1),
        member,
      });
      return membershipCheck({ result, ms: performance.now() - t0 }, input.maxAuc);
    },
  };
}

/** An audit whose row is known without running anything (nothing to audit, or why not). */
export function settledAudit(check: GateCheck): PendingAudit {
  return { finish: async () => check, cancel: () => {} };
}

/** Runs the audit once the model is there and returns the gate's membership row. */
export function auditMembership(input: AuditInput): Promise<GateCheck> {
  return startAudit(input).finish(input.outputs);
}
