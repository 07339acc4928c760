/**
 * The output gate: what may leave. Each output file is checked — declared in the manifest (when it
 * declares outputs), within the policy's size cap, of an allowed type, free of identifying values —
 * and the run's tripwires are carried onto the report. Any failed check blocks the export until the
 * owner explicitly overrides it.
 */
import type { OutputFile, SandboxTable } from '../sandbox/index.ts';
import { ReviewLimitError, ReviewMeter, type ReviewBudget } from './budget.ts';
import { reviewDisclosure, type DisclosurePolicy } from './disclosure.ts';
import { buildLeakIndex, prepareLeakIndex, scanOutput, type LeakHit, type LeakIndex } from './leak.ts';
import { prepareTokens, type DataTokens } from './tokens.ts';
import type { GateCheck } from './check.ts';

export type { GateCheck } from './check.ts';

/** Formats that are data, not code. Pickle and its kin run code on whoever loads them. */
export const ALLOWED_TYPES = [
  'json',
  'csv',
  'tsv',
  'txt',
  'md',
  'onnx',
  'safetensors',
  'parquet',
  'npy',
  'npz',
  'png',
  'svg',
  'pmml',
] as const;
const CODE_FORMATS = ['pkl', 'pickle', 'joblib', 'pt', 'pth', 'ckpt', 'sav', 'dill'];

export interface FileCheck {
  path: string;
  size: number;
  type: string;
  declared: boolean;
  withinCap: boolean;
  allowedType: boolean;
  /** Loading it runs code (pickle and formats built on it). */
  pickle: boolean;
  leaks: LeakHit[];
  /** The leak scan read the whole file (false: it blocks, see `problems`). */
  reviewed: boolean;
  /** Why part of the file could not be read (a member over budget, a corrupt stream…), if so. */
  unreadable: string[];
  /** One line per problem; empty when the file may leave. */
  problems: string[];
}

export interface GateReport {
  /** Every check, in the order the owner should read them. */
  checks: GateCheck[];
  files: FileCheck[];
  tripwires: Array<{ name: string; detail: string }>;
  /** True when nothing blocks the export. */
  pass: boolean;
  indexedColumns: LeakIndex['columns'];
  /** What the review cost, and why it stopped early if it did; `disclosureMs`: the disclosure checks' share. */
  review: {
    ms: number;
    inflatedBytes: number;
    scannedBytes: number;
    entries: number;
    stopped?: string;
    disclosureMs?: number;
  };
}

export interface GatePolicy {
  maxOutputBytes: number;
  /** The manifest's declared outputs; empty or absent: any name. */
  declared?: string[];
  /** The review's budget, over all outputs of the run (defaults: DEFAULT_REVIEW_BUDGET). */
  review?: Partial<ReviewBudget>;
  /**
   * A `performance.now()` time by which the review must end: the run's own deadline, so that the
   * review counts inside the run's time limit. Past it, what is not reviewed blocks.
   */
  deadline?: number;
  /**
   * The disclosure checks (docs/DISCLOSURE.md) and the rows the notebook saw, which they compare
   * the outputs with; absent: only the checks above.
   */
  disclosure?: DisclosurePolicy & { tables: SandboxTable[] };
}

/** Ids of the checks that ask whether an output discloses something about people (beside the leak scan). */
export const DISCLOSURE_CHECKS = ['small-cells', 'differencing', 'dominance', 'rows', 'params', 'membership'] as const;

function typeOf(path: string, bytes: Uint8Array): string {
  const ext = path.includes('.') ? path.split('.').pop()!.toLowerCase() : '';
  // Pickle protocol 2+ starts with 0x80 <protocol>; torch/joblib files are zips or pickles.
  if (bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5) return 'pickle';
  if (CODE_FORMATS.includes(ext)) return 'pickle';
  return ext || 'binary';
}

/**
 * What the review reads of the tables, made ahead in slices between the page's other tasks: the
 * owner's run calls it while the notebook runs, so the review after it has only the outputs to
 * read. Pass the index to {@link reviewOutputs}; the tokens of `seen` are kept for its disclosure
 * checks (the same array must be passed as `disclosure.tables`).
 * @param tables the whole tables (the leak scan's identifiers); `seen`, the rows the notebook saw
 * @throws the signal's reason once it is aborted
 */
export async function prepareReview(
  tables: SandboxTable[],
  seen: SandboxTable[],
  signal?: AbortSignal,
): Promise<{ index: LeakIndex; tokens: DataTokens }> {
  const index = await prepareLeakIndex(tables, signal);
  return { index, tokens: await prepareTokens(seen, signal) };
}

/**
 * Reviews a run's outputs.
 * @param index built once per run from the input tables (buildLeakIndex), or the tables themselves
 */
export function reviewOutputs(
  outputs: OutputFile[],
  inputs: LeakIndex | SandboxTable[],
  policy: GatePolicy,
  tripwires: Array<{ name: string; detail: string }> = [],
): GateReport {
  const t0 = performance.now();
  const index = Array.isArray(inputs) ? buildLeakIndex(inputs) : inputs;
  const meter = new ReviewMeter(policy.review, policy.deadline);
  const declared = policy.declared ?? [];
  let stopped: string | undefined;
  let total = 0;
  const files = outputs.map((o): FileCheck => {
    total += o.bytes.byteLength;
    const type = typeOf(o.path, o.bytes);
    const check: FileCheck = {
      path: o.path,
      size: o.bytes.byteLength,
      type,
      declared: !declared.length || declared.includes(o.path),
      withinCap: total <= policy.maxOutputBytes,
      allowedType: (ALLOWED_TYPES as readonly string[]).includes(type),
      pickle: type === 'pickle',
      leaks: [],
      reviewed: false,
      unreadable: [],
      problems: [],
    };
    if (!check.declared)
      check.problems.push(`${o.path} is not among the outputs the bundle declares (${declared.join(', ')})`);
    if (!check.withinCap) check.problems.push(`the outputs exceed the room's cap of ${policy.maxOutputBytes} bytes`);
    if (check.pickle)
      check.problems.push(
        `${o.path} is a pickle: loading it runs code on whoever opens it; ask for JSON, ONNX or safetensors`,
      );
    else if (!check.allowedType)
      check.problems.push(
        `${o.path} is of type "${type}", which is not on the allowed list (${ALLOWED_TYPES.join(', ')})`,
      );
    if (stopped) {
      check.unreadable.push(`the review stopped before this file (${stopped})`);
      check.problems.push(`${o.path} was not reviewed: the review stopped (${stopped})`);
      return check;
    }
    try {
      const scan = scanOutput(o.bytes, index, { meter, path: o.path });
      check.leaks = scan.hits;
      check.reviewed = scan.unreadable.length === 0;
      check.unreadable.push(...scan.unreadable);
      check.problems.push(...scan.unreadable);
    } catch (e) {
      if (!(e instanceof ReviewLimitError)) throw e;
      // Over budget: this file and every later one block, each with the one-line reason.
      stopped = e.message;
      check.unreadable.push(e.message);
      check.problems.push(`${o.path} could not be reviewed: ${e.message}`);
    }
    if (check.leaks.length) {
      const cols = [...new Set(check.leaks.map((h) => `${h.table}.${h.column}`))].join(', ');
      check.problems.push(
        `${o.path} contains ${check.leaks.length}${check.leaks.length >= 50 ? '+' : ''} value(s) of identifying columns (${cols})`,
      );
    }
    return check;
  });
  const checks: GateCheck[] = files.flatMap((f) => fileChecks(f, policy, declared));
  let disclosureMs: number | undefined;
  if (policy.disclosure) {
    // Its own meter (the leak scan's byte budgets stay the leak scan's), under the same deadline.
    const { tables, ...rules } = policy.disclosure;
    const d = reviewDisclosure(outputs, tables, rules, new ReviewMeter(policy.review, policy.deadline));
    checks.push(...d.checks);
    disclosureMs = d.ms;
  }
  checks.push(
    tripwires.length
      ? {
          id: 'tripwires',
          title: 'Tripwires',
          verdict: 'failed',
          measured: `${tripwires.length} fired (${[...new Set(tripwires.map((t) => t.name))].slice(0, 5).join(', ')})`,
          threshold: 'none',
          reason:
            'the code tried to reach the network or storage while it ran; nothing got out, but look before exporting',
          figures: { fired: tripwires.length },
        }
      : {
          id: 'tripwires',
          title: 'Tripwires',
          verdict: 'passed',
          measured: 'none fired',
          threshold: 'none',
          reason: 'the code never tried to reach the network or storage',
          figures: { fired: 0 },
        },
  );
  return {
    checks,
    files,
    tripwires,
    pass:
      files.every((f) => f.problems.length === 0) &&
      tripwires.length === 0 &&
      checks.every((c) => c.verdict !== 'failed'),
    indexedColumns: index.columns,
    review: {
      ms: performance.now() - t0,
      inflatedBytes: meter.inflated,
      scannedBytes: meter.scanned,
      entries: meter.entries,
      ...(stopped ? { stopped } : {}),
      ...(disclosureMs !== undefined ? { disclosureMs } : {}),
    },
  };
}

/** Adds a check made after the review (the membership audit) to a report; a failed one blocks. */
export function addGateCheck(report: GateReport, check: GateCheck): GateReport {
  const checks = [...report.checks.filter((c) => !(c.id === check.id && c.file === check.file)), check];
  return { ...report, checks, pass: report.pass && check.verdict !== 'failed' };
}

/** Every reason the gate blocks, one line each: the files' problems, then the failed disclosure checks. */
export function gateProblems(report: Pick<GateReport, 'files' | 'checks'>): string[] {
  const disclosure = new Set<string>(DISCLOSURE_CHECKS);
  return [
    ...report.files.flatMap((f) => f.problems),
    ...(report.checks ?? [])
      .filter((c) => c.verdict === 'failed' && disclosure.has(c.id))
      .map(
        (c) =>
          `${c.file ? `${c.file}: ` : ''}${c.title}: ${c.measured ?? c.reason} (threshold: ${c.threshold ?? 'none'})`,
      ),
  ];
}

/** The checks of one file, in words: what the FileCheck's flags and problems mean. */
function fileChecks(f: FileCheck, policy: GatePolicy, declared: string[]): GateCheck[] {
  const out: GateCheck[] = [];
  const base = { file: f.path };
  out.push({
    ...base,
    id: 'declared',
    title: 'Declared output',
    verdict: f.declared ? 'passed' : 'failed',
    threshold: declared.length ? declared.join(', ') : 'any name (the bundle declares none)',
    reason: f.declared ? 'the bundle said it would write this file' : 'the bundle did not say it would write this file',
    ...(f.declared ? {} : { suggestion: 'ask the expert to declare it (airlock seal --output) or not to write it' }),
  });
  out.push({
    ...base,
    id: 'size',
    title: 'Size',
    verdict: f.withinCap ? 'passed' : 'failed',
    measured: `${f.size} bytes`,
    threshold: `${policy.maxOutputBytes} bytes for all outputs together`,
    reason: f.withinCap ? "within the room's output cap" : "the outputs together exceed the room's output cap",
    figures: { bytes: f.size },
  });
  out.push({
    ...base,
    id: 'type',
    title: 'File type',
    verdict: f.allowedType && !f.pickle ? 'passed' : 'failed',
    measured: f.type,
    threshold: ALLOWED_TYPES.join(', '),
    reason: f.pickle
      ? 'a pickle runs code on whoever loads it'
      : f.allowedType
        ? 'a data format, not code'
        : 'not on the list of data formats',
    ...(f.allowedType && !f.pickle ? {} : { suggestion: 'ask for JSON, ONNX, safetensors or npy' }),
  });
  const cols = [...new Set(f.leaks.map((h) => `${h.table}.${h.column}`))];
  out.push({
    ...base,
    id: 'identifiers',
    title: 'Identifying values',
    verdict: !f.reviewed || f.leaks.length ? 'failed' : 'passed',
    measured: !f.reviewed
      ? 'not fully read'
      : f.leaks.length
        ? `${f.leaks.length}${f.leaks.length >= 50 ? '+' : ''} value(s) of ${cols.join(', ')}`
        : 'none found',
    threshold: 'none',
    reason: !f.reviewed
      ? `part of it could not be read (${f.unreadable[0] ?? 'unknown'}), so it cannot be said to be free of identifiers`
      : f.leaks.length
        ? `the file holds values of columns that identify people (${f.leaks[0]!.encoding})`
        : 'no value of an identifying column was found, in plain, encoded or compressed form',
    ...(f.leaks.length ? { suggestion: 'ask the expert to drop identifier columns before training' } : {}),
    figures: { hits: f.leaks.length, reviewed: f.reviewed },
  });
  return out;
}
