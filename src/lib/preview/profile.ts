/**
 * A column at a glance, for the owner checking types before a load: how much is missing, how many
 * distinct values, and a small histogram (numbers in equal-width bins, text and flags by their most
 * frequent values). Computed from a sample of the file's first rows, over the typed arrays a load
 * builds; shown only to the owner.
 */
import type { SandboxColumn } from '../sandbox/index.ts';

export interface ColumnProfile {
  rows: number;
  /** Share of rows with no value, 0..1. */
  missing: number;
  /** Distinct present values (counted up to `maxDistinct`, then `distinctCapped`). */
  distinct: number;
  distinctCapped: boolean;
  /** Bar heights 0..1 (the largest bin is 1), with what each bar is. */
  bins: Array<{ label: string; share: number }>;
}

const MAX_DISTINCT = 10_000;
const NUMERIC_BINS = 12;
const TOP_VALUES = 6;

/** Whether row `i` holds a value. */
function present(c: SandboxColumn, i: number): boolean {
  if (c.valid && !c.valid[i]) return false;
  if (c.type === 'string') return c.values[i]! >= 0;
  if (c.type === 'float' || c.type === 'datetime' || c.values instanceof Float64Array)
    return !Number.isNaN(c.values[i]!);
  return true;
}

function fmt(x: number, type: SandboxColumn['type']): string {
  if (type === 'datetime') return new Date(x).toISOString().slice(0, 10);
  return Math.abs(x) >= 1e5 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(1) : String(Math.round(x * 100) / 100);
}

/** The profile of one column of `rows` rows. */
export function profileColumn(c: SandboxColumn, rows: number): ColumnProfile {
  let missing = 0;
  const seen = new Set<number>();
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < rows; i++) {
    if (!present(c, i)) {
      missing++;
      continue;
    }
    const v = c.values[i]!;
    if (seen.size < MAX_DISTINCT) seen.add(v);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const have = rows - missing;
  const base = {
    rows,
    missing: rows ? missing / rows : 0,
    distinct: seen.size,
    distinctCapped: seen.size >= MAX_DISTINCT,
  };
  if (!have) return { ...base, bins: [] };
  const numeric = c.type === 'int' || c.type === 'float' || c.type === 'datetime';
  if (numeric && seen.size > TOP_VALUES) {
    const counts = new Array<number>(NUMERIC_BINS).fill(0);
    const width = (max - min) / NUMERIC_BINS || 1;
    for (let i = 0; i < rows; i++) {
      if (!present(c, i)) continue;
      counts[Math.min(NUMERIC_BINS - 1, Math.floor((c.values[i]! - min) / width))]!++;
    }
    const top = Math.max(...counts);
    return {
      ...base,
      bins: counts.map((n, b) => ({
        label: `${fmt(min + b * width, c.type)} – ${fmt(min + (b + 1) * width, c.type)}: ${n}`,
        share: n / top,
      })),
    };
  }
  // Few values, text or flags: the most frequent values.
  const counts = new Map<number, number>();
  for (let i = 0; i < rows; i++) if (present(c, i)) counts.set(c.values[i]!, (counts.get(c.values[i]!) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1]).slice(0, TOP_VALUES);
  const top = ranked[0]?.[1] ?? 1;
  const name = (v: number) =>
    c.type === 'string' ? (c.dictionary?.[v] ?? '?') : c.type === 'bool' ? (v ? 'true' : 'false') : fmt(v, c.type);
  return { ...base, bins: ranked.map(([v, n]) => ({ label: `${name(v)}: ${n}`, share: n / top })) };
}
