/**
 * The training rows as the disclosure checks compare them with outputs: every cell as a canonical
 * token (numbers in their shortest form, text lower-cased), interned once per run, with per-column
 * codes so that groups can be counted and rows found by their values.
 *
 * An output writes a value in its own way (`5`, `5.0`, `"5"`, float32 5, `True`, `Caucasian`); the
 * data holds it typed. Both sides go through {@link canonText} / {@link canonNumber}, so the
 * comparison is of the value, not of its spelling.
 */
import type { SandboxTable } from '../sandbox/index.ts';
import { runSteps, runStepsAsync } from '../workers/index.ts';

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A number's canonical token: integers without a fraction, others in JavaScript's shortest form. */
export function canonNumber(v: number): string {
  if (Object.is(v, -0)) return '0';
  return String(v);
}

/** A text value's canonical token: trimmed, lower-cased; numbers and booleans as numbers. */
export function canonText(s: string): string {
  const t = s.trim();
  if (NUMERIC.test(t)) {
    const n = Number(t);
    if (Number.isFinite(n)) return canonNumber(n);
  }
  const l = t.toLowerCase();
  if (l === 'true') return '1';
  if (l === 'false') return '0';
  return l;
}

/** Whether a text value is a number (as the tables and records readers count them). */
export function isNumberText(s: string): boolean {
  return NUMERIC.test(s.trim());
}

export interface ColumnTokens {
  name: string;
  type: SandboxTable['columns'][number]['type'];
  /** Local code per row (-1: missing or not compared, e.g. datetimes). */
  codes: Int32Array;
  /** Local code → global token id. */
  tokenOf: Int32Array;
  /** Local code → rows holding it. */
  counts: Int32Array;
  /** The numeric value per row (NaN when missing or not a number): sums, means, dominance. */
  numbers?: Float64Array;
  /** Global token id → local code, made on first use. */
  local?: Map<number, number>;
  /** Rows grouped by local code (CSR), made on first use by the row check. */
  postings?: { start: Int32Array; rows: Int32Array };
}

export interface TableTokens {
  name: string;
  rows: number;
  columns: ColumnTokens[];
}

export interface DataTokens {
  tables: TableTokens[];
  /** Canonical token → global id. */
  ids: Map<string, number>;
  /** Global id → where it occurs: [table, column, local code] triples, flattened. */
  places: Places;
}

const made = new WeakMap<SandboxTable[], DataTokens>();

/**
 * Where each global token occurs: the [table, column, local code] triples of token `g` are
 * `triples[3 * start[g] … 3 * start[g + 1]]`. One flat array, not an array per token: the real
 * data has ~200k distinct tokens, and as many small arrays cost more to make and collect than
 * the rest of the tokenising.
 */
export interface Places {
  start: Int32Array;
  triples: Int32Array;
}

function placesOf(tables: TableTokens[], tokens: number): Places {
  const start = new Int32Array(tokens + 1);
  for (const t of tables) for (const c of t.columns) for (const g of c.tokenOf) start[g + 1]!++;
  for (let g = 0; g < tokens; g++) start[g + 1]! += start[g]!;
  const fill = start.slice(0, tokens);
  const triples = new Int32Array(3 * start[tokens]!);
  tables.forEach((t, ti) =>
    t.columns.forEach((c, ci) =>
      c.tokenOf.forEach((g, l) => {
        const at = 3 * fill[g]!++;
        triples[at] = ti;
        triples[at + 1] = ci;
        triples[at + 2] = l;
      }),
    ),
  );
  return { start, triples };
}

/** Tokenizes the tables the notebook saw (once per list of tables). */
export function tokenizeTables(tables: SandboxTable[]): DataTokens {
  let d = made.get(tables);
  if (!d) made.set(tables, (d = runSteps(tokenize(tables))));
  return d;
}

/**
 * Tokenizes the tables in slices between the page's other tasks, so that the review finds them
 * done: the owner's run calls it while the notebook runs (the tokens depend only on the tables).
 */
export async function prepareTokens(tables: SandboxTable[], signal?: AbortSignal): Promise<DataTokens> {
  const known = made.get(tables);
  if (known) return known;
  const d = await runStepsAsync(tokenize(tables), signal ? { signal } : {});
  // (A build at once meanwhile wins: the review may already hold its tokens.)
  const now = made.get(tables);
  if (now) return now;
  made.set(tables, d);
  return d;
}

/** One step per column. */
function* tokenize(tables: SandboxTable[]): Generator<void, DataTokens, void> {
  const ids = new Map<string, number>();
  const intern = (tok: string): number => {
    let id = ids.get(tok);
    if (id === undefined) {
      id = ids.size;
      ids.set(tok, id);
    }
    return id;
  };
  const out: TableTokens[] = [];
  for (const t of tables) {
    const columns: ColumnTokens[] = [];
    for (const c of t.columns) {
      yield;
      const n = t.rowCount;
      const codes = new Int32Array(n).fill(-1);
      const tokenOf: number[] = [];
      let numbers: Float64Array | undefined;
      if (c.type === 'string') {
        // Dictionary entries that canonicalize alike share one local code.
        const dict = c.dictionary ?? [];
        const byToken = new Map<number, number>();
        const map = new Int32Array(dict.length);
        dict.forEach((v, k) => {
          const g = intern(canonText(v));
          let l = byToken.get(g);
          if (l === undefined) {
            l = tokenOf.push(g) - 1;
            byToken.set(g, l);
          }
          map[k] = l;
        });
        for (let i = 0; i < n; i++) {
          const code = c.values[i]!;
          if (code >= 0) codes[i] = map[code]!;
        }
      } else if (c.type === 'int' || c.type === 'float' || c.type === 'bool') {
        numbers = new Float64Array(n);
        const byValue = new Map<number, number>();
        for (let i = 0; i < n; i++) {
          const v = c.values[i]!;
          if ((c.valid && !c.valid[i]) || Number.isNaN(v)) {
            numbers[i] = NaN;
            continue;
          }
          numbers[i] = v;
          let l = byValue.get(v);
          if (l === undefined) {
            l = tokenOf.push(intern(canonNumber(v))) - 1;
            byValue.set(v, l);
          }
          codes[i] = l;
        }
      }
      const counts = new Int32Array(tokenOf.length);
      for (let i = 0; i < n; i++) if (codes[i]! >= 0) counts[codes[i]!]!++;
      columns.push({ name: c.name, type: c.type, codes, tokenOf: Int32Array.from(tokenOf), counts, numbers });
    }
    out.push({ name: t.name, rows: t.rowCount, columns });
  }
  return { tables: out, ids, places: placesOf(out, ids.size) };
}

/** The local code of a canonical token in a column, or -1. */
export function localCode(data: DataTokens, col: ColumnTokens, token: string): number {
  const g = data.ids.get(token);
  if (g === undefined) return -1;
  if (!col.local) {
    col.local = new Map();
    col.tokenOf.forEach((t, l) => col.local!.set(t, l));
  }
  return col.local.get(g) ?? -1;
}

/** Rows of a column grouped by local code (counting sort), made once. */
export function postings(col: ColumnTokens): { start: Int32Array; rows: Int32Array } {
  if (col.postings) return col.postings;
  const k = col.counts.length;
  const start = new Int32Array(k + 1);
  for (let l = 0; l < k; l++) start[l + 1] = start[l]! + col.counts[l]!;
  const fill = start.slice(0, k);
  const rows = new Int32Array(start[k]!);
  for (let i = 0; i < col.codes.length; i++) {
    const l = col.codes[i]!;
    if (l >= 0) rows[fill[l]!++] = i;
  }
  col.postings = { start, rows };
  return col.postings;
}

/** A column name as compared with an output's: lower-case letters and digits. */
export function normalName(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}
