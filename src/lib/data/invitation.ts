/**
 * The room invitation: what the owner gives the expert. Metadata only — names, types, row counts,
 * missing rates — unless the owner opts a column in to value statistics, which are then
 * k-anonymised (docs/INVITATION.md). Values never appear otherwise.
 */
import { DEFAULT_POLICY, POLICY_FIELDS, policyProblems, type RunPolicy } from '../policy/index.ts';
import type { ColumnType } from '../sandbox/index.ts';
import type { BuiltColumn } from './columns/builder.ts';

export const INVITATION_FORMAT = 'airlock-invitation';
export const INVITATION_VERSION = 1;
export const DEFAULT_K = 10;

export interface ColumnStats {
  /** Numbers and dates: the k-th smallest and k-th largest value (never a value fewer than k rows reach). */
  range?: { low: number; high: number };
  /** Text: categories held by at least k rows, with counts; the rest is counted as `other`. */
  categories?: Array<{ value: string; count: number }>;
  other?: number;
  /** Numbers: counts in 10 equal-width bins between `range.low` and `range.high`, bins under k shown as 0. */
  histogram?: number[];
}

export interface InvitationColumn {
  name: string;
  type: ColumnType;
  /** Share of missing values, rounded to 3 decimals. */
  missing: number;
  stats?: ColumnStats;
}

export interface InvitationTable {
  name: string;
  rows: number;
  columns: InvitationColumn[];
}

export interface Invitation {
  format: typeof INVITATION_FORMAT;
  version: number;
  room: string;
  /** The owner's age recipient: seal bundles to it. */
  recipient: string;
  /** The expert's pinned key, if the owner set one. */
  expert?: string;
  /**
   * The room's policy: every POLICY_FIELDS setting, so the expert knows the thresholds before writing
   * code. Invitations made before the disclosure checks state only the time limit and output cap.
   */
  policy: InvitationPolicy;
  /** The k-anonymity threshold applied to any statistics below. */
  k: number;
  tables: InvitationTable[];
  created: string;
}

/**
 * The policy as an invitation states it: the settings this Airlock knows, checked against their
 * ranges, each there only if the invitation states it; and any setting a newer Airlock added, kept
 * as it came (a number, text or yes/no) so the expert still sees it.
 */
export type InvitationPolicy = Partial<RunPolicy> & { [setting: string]: number | string | boolean | undefined };

export interface InvitationInput {
  room: string;
  recipient: string;
  expert?: string;
  /** The room's policy; a setting not given is the default's. */
  policy?: Partial<RunPolicy>;
  k?: number;
  tables: Array<{ name: string; rowCount: number; columns: BuiltColumn[] }>;
  /** Columns the owner opted in to statistics, per table: `{ encounters: ['age', 'race'] }`. */
  stats?: Record<string, string[]>;
  created?: Date;
}

function missingRate(c: BuiltColumn, rows: number): number {
  if (!rows) return 0;
  let missing = 0;
  if (c.valid) for (let i = 0; i < rows; i++) missing += c.valid[i] ? 0 : 1;
  else if (c.type === 'string') for (let i = 0; i < rows; i++) missing += c.values[i]! < 0 ? 1 : 0;
  return Math.round((missing / rows) * 1000) / 1000;
}

function stats(c: BuiltColumn, rows: number, k: number): ColumnStats {
  const present = (i: number) => (c.valid ? !!c.valid[i] : c.type !== 'string' || c.values[i]! >= 0);
  if (c.type === 'string' || c.type === 'bool') {
    const counts = new Map<string, number>();
    for (let i = 0; i < rows; i++) {
      if (!present(i)) continue;
      const v = c.type === 'bool' ? (c.values[i] ? 'true' : 'false') : c.dictionary![c.values[i]!]!;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const categories = [...counts].filter(([, n]) => n >= k).sort((a, b) => b[1] - a[1]).map(([value, count]) => ({ value, count }));
    const other = [...counts].filter(([, n]) => n < k).reduce((a, [, n]) => a + n, 0);
    return { categories, other };
  }
  const vals: number[] = [];
  for (let i = 0; i < rows; i++) if (present(i)) vals.push(c.values[i]!);
  if (vals.length < 2 * k) return {};
  vals.sort((a, b) => a - b);
  const low = vals[k - 1]!;
  const high = vals[vals.length - k]!;
  const bins = new Array<number>(10).fill(0);
  if (high > low) for (const v of vals) if (v >= low && v <= high) bins[Math.min(9, Math.floor(((v - low) / (high - low)) * 10))]!++;
  return { range: { low, high }, histogram: bins.map((n) => (n < k ? 0 : n)) };
}

/** Builds the invitation. Without `stats`, it holds no value of any cell. */
export function buildInvitation(input: InvitationInput): Invitation & { policy: RunPolicy } {
  const k = input.k ?? DEFAULT_K;
  if (!Number.isInteger(k) || k < 2) throw new Error('k must be a whole number of at least 2');
  return {
    format: INVITATION_FORMAT,
    version: INVITATION_VERSION,
    room: input.room,
    recipient: input.recipient,
    ...(input.expert ? { expert: input.expert } : {}),
    // The whole policy, disclosure thresholds included: the expert sees what the outputs must pass.
    policy: { ...DEFAULT_POLICY, ...input.policy },
    k,
    tables: input.tables.map((t) => ({
      name: t.name,
      rows: t.rowCount,
      columns: t.columns.map((c) => {
        const out: InvitationColumn = { name: c.name, type: c.type, missing: missingRate(c, t.rowCount) };
        if (input.stats?.[t.name]?.includes(c.name)) out.stats = stats(c, t.rowCount, k);
        return out;
      }),
    })),
    created: (input.created ?? new Date()).toISOString(),
  };
}

/**
 * Reads an invitation file.
 * @throws Error naming what is wrong.
 */
export function parseInvitation(text: string): Invitation {
  let v: Partial<Invitation>;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('the invitation is not JSON');
  }
  if (v.format !== INVITATION_FORMAT) throw new Error(`not an Airlock invitation (format is not "${INVITATION_FORMAT}")`);
  if (typeof v.version !== 'number' || v.version > INVITATION_VERSION) throw new Error(`the invitation has version ${v.version}; this Airlock reads version ${INVITATION_VERSION}`);
  if (typeof v.recipient !== 'string' || !v.recipient.startsWith('age1')) throw new Error('the invitation has no recipient');
  if (!Array.isArray(v.tables)) throw new Error('the invitation lists no tables');
  const policy = readPolicy((v as { policy?: unknown }).policy);
  for (const t of v.tables) {
    if (typeof t.name !== 'string' || !Number.isInteger(t.rows) || !Array.isArray(t.columns)) throw new Error('an invitation table is malformed');
    for (const c of t.columns) if (typeof c.name !== 'string' || !['int', 'float', 'bool', 'datetime', 'string'].includes(c.type)) throw new Error(`column ${String(c.name)} of ${t.name} has an unknown type`);
  }
  return { ...(v as Invitation), policy };
}

/** Most settings a policy may hold: a newer Airlock's are kept, within reason. */
const MAX_SETTINGS = 64;

/**
 * The invitation's policy: known settings checked as the Room tab checks them, a newer Airlock's
 * kept as they came. None stated (an invitation older than the policy): empty.
 */
function readPolicy(p: unknown): InvitationPolicy {
  if (p === undefined) return {};
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new Error('the invitation’s policy is not a list of settings');
  const entries = Object.entries(p);
  if (entries.length > MAX_SETTINGS) throw new Error(`the invitation’s policy has more than ${MAX_SETTINGS} settings`);
  const known = new Set<string>(POLICY_FIELDS.map((f) => f.key));
  const out: InvitationPolicy = {};
  for (const [k, x] of entries) {
    if (k.length > 100) throw new Error('the invitation’s policy has a setting with a name over 100 characters');
    if (known.has(k)) {
      const problem = policyProblems({ [k]: x })[0];
      if (problem) throw new Error(`the invitation’s policy: ${problem}; ask the owner for a new invitation`);
      out[k] = x as number;
    } else if (typeof x === 'number' || typeof x === 'boolean' || (typeof x === 'string' && x.length <= 200)) {
      out[k] = x;
    } else {
      throw new Error(`the invitation’s policy setting "${k.slice(0, 40)}" is not a number, text or yes/no`);
    }
  }
  return out;
}
