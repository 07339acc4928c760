/**
 * The checks on tables of results, done with the data at hand (docs/DISCLOSURE.md): a table's key
 * columns are matched to the columns of the tables the notebook read — by name, or by holding only
 * that column's values — so every cell's group is counted in the data itself, whatever statistic
 * the cell shows and whether or not the table prints a count. Then, as ACRO checks tables:
 *
 * - **small cells**: every shown statistic must describe at least `minCellCount` people; a zero
 *   count is a cell too (ACRO's `zeros_are_disclosive`);
 * - **differencing**: a suppressed count that a total and the other cells of its line give back
 *   (an exact total row or column, or for a one-way table the table's own row count, which the
 *   expert knows);
 * - **dominance**: for a cell that is the sum or mean of a numeric column (recognised by matching
 *   the data's sums and means), its largest two contributions may make at most `dominance` of the
 *   total (N-K rule, n = 2) and the rest must make at least `pRatio` of the largest (p-ratio).
 *
 * A table whose keys match no column of the data is not a table of the data's groups: the row and
 * size checks read it instead — unless the manifest declares it an aggregate, in which case each
 * cell's size must be shown as a count.
 */
import type { GateCheck } from './check.ts';
import type { ReviewMeter } from './budget.ts';
import {
  canonText,
  isNumberText,
  localCode,
  normalName,
  type ColumnTokens,
  type DataTokens,
  type TableTokens,
} from './tokens.ts';
import type { OutputTable } from './tables.ts';

export interface CellPolicy {
  minCellCount: number;
  dominance: number;
  pRatio: number;
}

/** What a cell left empty or marked says: nothing shown. */
const SUPPRESSED =
  /^(|\*+|-+|–|—|x|c|na|n\/a|nan|null|none|redacted|\[redacted\]|suppressed|masked|[<≤]=?\s*\d+(\.\d+)?)$/i;
const MARGIN = /^(total|totals|all|overall|grand total|sum)$/i;
/** A key written for rows where the column is missing (the data's own missing markers, Python's None). */
const MISSING = /^(|na|n\/a|nan|null|none|\?|-|#n\/a|missing|undefined)$/i;
/** A key code: a value's local code, or one of these. */
const MISSING_CODE = -1;
const ANY_CODE = -2;
const COUNT_NAME =
  /^(n|count|counts|freq|frequency|size|number|num|records|patients|people|persons|encounters|total)$|(^|_)(n|count|freq)$/i;

/** Largest cardinality of a column a key may be matched to by its values alone. */
const MAX_KEY_DISTINCT = 5000;

interface Key {
  /** The output column (or the pivot's header row). */
  name: string;
  col: number;
  /** The input column it is, in the chosen table. */
  data?: ColumnTokens;
}

interface Cell {
  row: number;
  /** The statistic column. */
  stat: number;
  shown: string;
  value: number;
  suppressed: boolean;
  /** Key values per key (pivot included); `null` for a margin. */
  keys: Array<string | null>;
  /** The group's size in the data; undefined when it cannot be traced. */
  n?: number;
  /** Index of the group when all keys are exact. */
  group?: number;
}

export interface TableReview {
  /** False: not a table of the data's groups (the row and size checks read it instead). */
  groups: boolean;
  checks: GateCheck[];
}

interface StatColumn {
  name: string;
  col: number;
  kind: 'count' | 'sum' | 'mean' | 'other';
  /** The input column summed or averaged. */
  of?: number;
  /** A displayed count's rounding base (1: exact). */
  base: number;
}

function numberOf(s: string): number {
  return isNumberText(s) ? Number(s.trim()) : NaN;
}

function decimals(s: string): number {
  const m = /\.(\d+)/.exec(s);
  const e = /[eE]([+-]?\d+)/.exec(s);
  return (m ? m[1]!.length : 0) - (e ? Number(e[1]) : 0);
}

/** The largest of 10 and 5 that every non-zero count divides: how the counts were rounded. */
function roundingBase(values: number[]): number {
  const nz = values.filter((v) => v !== 0);
  if (!nz.length) return 1;
  for (const b of [10, 5]) if (nz.every((v) => Number.isInteger(v / b))) return b;
  return 1;
}

/** Matches an output column to an input column: by name with most values, or by values alone. */
function matchKey(
  data: DataTokens,
  name: string,
  values: string[],
  numeric: boolean,
): { table: number; col: number } | undefined {
  const distinct = [
    ...new Set(values.filter((v) => !MARGIN.test(v.trim()) && !SUPPRESSED.test(v.trim()) && !MISSING.test(v.trim()))),
  ];
  if (!distinct.length) return undefined;
  const tokens = distinct.map(canonText);
  let best: { table: number; col: number; score: number } | undefined;
  data.tables.forEach((t, ti) =>
    t.columns.forEach((c, ci) => {
      if (!c.counts.length) return;
      const byName = normalName(c.name) === normalName(name);
      if (numeric && (!byName || c.counts.length > 200)) return;
      if (!byName && c.counts.length > MAX_KEY_DISTINCT) return;
      const hits = tokens.filter((tok) => localCode(data, c, tok) >= 0).length;
      const ok = byName ? hits / tokens.length >= 0.5 : hits === tokens.length && tokens.length >= 2;
      if (!ok) return;
      // By name first; then the column whose values the key covers best.
      const score = (byName ? 2 : 0) + hits / c.counts.length;
      if (!best || score > best.score) best = { table: ti, col: ci, score };
    }),
  );
  return best;
}

function describeCell(keys: Key[], c: Cell): string {
  return keys.map((k, i) => `${k.name}=${c.keys[i] ?? 'all'}`).join(', ');
}

/**
 * Reviews one output read as a table.
 * @param declared the manifest declares it a table of counts or aggregates
 */
export function reviewTable(
  file: string,
  table: OutputTable,
  data: DataTokens,
  policy: CellPolicy,
  declared: boolean,
  meter?: ReviewMeter,
): TableReview {
  let { columns, rows } = table;
  // pandas writes its index as an unnamed first column of 0, 1, 2…: not part of the table.
  if (columns[0] === '' || /^unnamed: 0$/i.test(columns[0] ?? '')) {
    if (rows.every((r, i) => r[0] === String(i))) {
      columns = columns.slice(1);
      rows = rows.map((r) => r.slice(1));
    }
  }
  const width = columns.length;
  const colValues = (j: number) => rows.map((r) => r[j] ?? '');
  const isNumeric = (j: number) => {
    const v = colValues(j).map((s) => s.trim());
    const shown = v.filter((s) => !SUPPRESSED.test(s));
    return shown.length > 0 && shown.every(isNumberText);
  };

  // 1. Keys: columns that are columns of the data (one table: the one most keys come from).
  const matches = columns.map((name, j) => matchKey(data, name, colValues(j), isNumeric(j)));
  const votes = new Map<number, number>();
  for (const m of matches) if (m) votes.set(m.table, (votes.get(m.table) ?? 0) + 1);
  const tIndex = [...votes].sort((a, b) => b[1] - a[1])[0]?.[0];
  const t: TableTokens | undefined = tIndex === undefined ? undefined : data.tables[tIndex];
  const keys: Key[] = [];
  const stats: number[] = [];
  for (let j = 0; j < width; j++) {
    const m = matches[j];
    if (m && m.table === tIndex) keys.push({ name: columns[j]!, col: j, data: t!.columns[m.col] });
    else if (isNumeric(j)) stats.push(j);
    else if (new Set(colValues(j).map((v) => v.trim())).size > 1) keys.push({ name: columns[j]!, col: j }); // a grouping the data does not have (bands made by the notebook)
    // (a column of one text value, a label, splits nothing)
  }
  // 2. A wide table (pandas crosstab, pivot_table): the statistic columns' names are one column's values.
  let pivot: Key | undefined;
  if (t && stats.length >= 2) {
    const named = stats.filter((j) => !MARGIN.test(columns[j]!.trim()));
    const m = matchKey(
      data,
      '',
      named.map((j) => columns[j]!),
      false,
    );
    if (m && m.table === tIndex && named.length >= 2)
      pivot = { name: t.columns[m.col]!.name, col: -1, data: t.columns[m.col] };
  }
  const matched = keys.filter((k) => k.data).length + (pivot ? 1 : 0);
  if (!matched && !declared) return { groups: false, checks: [] };
  if (!stats.length) {
    return {
      groups: false,
      checks: declared
        ? [
            {
              id: 'small-cells',
              file,
              title: 'Small cells',
              verdict: 'failed',
              measured: 'no column of numbers',
              threshold: `each cell describes at least ${policy.minCellCount} people`,
              reason:
                'the bundle declares this file a table of results, but it holds no column of counts or statistics to check',
              suggestion: 'ask the expert to write the table with one column per statistic and a count column',
            },
          ]
        : [],
    };
  }

  // 3. The groups in the data: each row of the chosen table by its key columns' codes.
  const allKeys = pivot ? [...keys, pivot] : keys;
  const exactKeys = allKeys.filter((k) => k.data);
  const groupOf = new Map<string, number>();
  const groupN: number[] = [];
  const groupCodes: number[][] = [];
  let rowGroup: Int32Array | undefined;
  if (t) {
    rowGroup = new Int32Array(t.rows).fill(-1);
    for (let i = 0; i < t.rows; i++) {
      if (meter && (i & 0xffff) === 0) meter.checkTime(file);
      let key = '';
      for (const k of exactKeys) key += `${k.data!.codes[i]!},`; // a missing value (-1) is a group too
      let g = groupOf.get(key);
      if (g === undefined) {
        g = groupN.push(0) - 1;
        groupOf.set(key, g);
        groupCodes.push(exactKeys.map((k) => k.data!.codes[i]!));
      }
      groupN[g]!++;
      rowGroup[i] = g;
    }
  }

  // 4. The cells: one per shown statistic (per row and statistic column; a wide table's per header).
  const cells: Cell[] = [];
  const statCols: StatColumn[] = [];
  const cellStats = pivot ? stats.filter((j) => !MARGIN.test(columns[j]!.trim())) : stats;
  const pivotMargin = pivot ? stats.find((j) => MARGIN.test(columns[j]!.trim())) : undefined;
  for (const j of pivot ? [...cellStats, ...(pivotMargin !== undefined ? [pivotMargin] : [])] : stats) {
    statCols.push({ name: columns[j]!, col: j, kind: 'other', base: 1 });
    rows.forEach((r, i) => {
      const shown = (r[j] ?? '').trim();
      const keyValues: Array<string | null> = keys.map((k) => {
        const v = (r[k.col] ?? '').trim();
        return MARGIN.test(v) ? null : v;
      });
      if (pivot) keyValues.push(MARGIN.test(columns[j]!.trim()) ? null : columns[j]!.trim());
      cells.push({
        row: i,
        stat: j,
        shown,
        value: numberOf(shown),
        suppressed: SUPPRESSED.test(shown),
        keys: keyValues,
      });
    });
  }
  // Each cell's group size from the data: exact keys by lookup, margins by adding up their groups.
  const exactIdx = allKeys.map((k) => exactKeys.indexOf(k));
  for (const c of cells) {
    if (!t) break;
    let unknown = false;
    const want: number[] = []; // per exact key: a code, MISSING_CODE, or ANY_CODE (a margin)
    allKeys.forEach((k, i) => {
      const v = c.keys[i] ?? null;
      if (!k.data) {
        if (v !== null) unknown = true;
        return;
      }
      if (v === null) return void (want[exactIdx[i]!] = ANY_CODE);
      let code = localCode(data, k.data, canonText(v));
      if (code < 0 && MISSING.test(v)) code = MISSING_CODE;
      if (code === -1 && !MISSING.test(v)) unknown = true;
      want[exactIdx[i]!] = code;
    });
    if (unknown) continue;
    if (want.every((w) => w !== ANY_CODE)) {
      const g = groupOf.get(want.map((w) => `${w},`).join(''));
      c.n = g === undefined ? 0 : groupN[g]!;
      if (g !== undefined) c.group = g;
    } else {
      let n = 0;
      groupCodes.forEach((codes, g) => {
        if (codes.every((code, q) => want[q] === ANY_CODE || want[q] === code)) n += groupN[g]!;
      });
      c.n = n;
    }
  }

  // 5. What each statistic column is: a count (its values are the group sizes, maybe rounded), a
  // sum or a mean of a numeric input column, or something else.
  for (const s of statCols) {
    const mine = cells.filter((c) => c.stat === s.col && !c.suppressed && Number.isFinite(c.value));
    const traced = mine.filter((c) => c.n !== undefined);
    const base = roundingBase(mine.map((c) => c.value));
    const agree = (f: (c: Cell) => boolean) => traced.length > 0 && traced.filter(f).length >= 0.9 * traced.length;
    if (agree((c) => Math.abs(c.value - c.n!) <= Math.max(0.5, base / 2))) {
      s.kind = 'count';
      s.base = base;
      continue;
    }
    if (t) {
      const exact = traced.filter((c) => c.group !== undefined);
      for (let q = 0; q < t.columns.length && exact.length; q++) {
        const nums = t.columns[q]!.numbers;
        if (!nums) continue;
        const sums = new Float64Array(groupN.length);
        const present = new Int32Array(groupN.length);
        for (let i = 0; i < t.rows; i++) {
          const g = rowGroup![i]!;
          const v = nums[i]!;
          if (g >= 0 && !Number.isNaN(v)) {
            sums[g]! += v;
            present[g]!++;
          }
        }
        const tol = (c: Cell, x: number) => 0.5 * 10 ** -Math.max(0, decimals(c.shown)) + 1e-9 * Math.abs(x);
        const near = (c: Cell, x: number) => Math.abs(c.value - x) <= tol(c, x);
        const all = (f: (c: Cell) => boolean) => exact.filter(f).length >= 0.9 * exact.length;
        if (all((c) => near(c, sums[c.group!]!))) {
          s.kind = 'sum';
          s.of = q;
          break;
        }
        if (all((c) => present[c.group!]! > 0 && near(c, sums[c.group!]! / present[c.group!]!))) {
          s.kind = 'mean';
          s.of = q;
          break;
        }
      }
    }
    if (
      s.kind === 'other' &&
      COUNT_NAME.test(s.name.trim()) &&
      mine.every((c) => Number.isInteger(c.value) && c.value >= 0)
    ) {
      s.kind = 'count';
      s.base = base;
    }
  }
  const countCols = new Set(statCols.filter((s) => s.kind === 'count').map((s) => s.col));
  // A cell no group traces: its size is the count shown beside it, if the row shows one.
  for (const c of cells) {
    if (c.n !== undefined) continue;
    const count = cells.find(
      (o) =>
        o.row === c.row &&
        countCols.has(o.stat) &&
        !o.suppressed &&
        Number.isFinite(o.value) &&
        (!pivot || o.stat === c.stat),
    );
    if (count) c.n = count.value;
  }

  const checks: GateCheck[] = [];
  const shown = cells.filter((c) => !c.suppressed);
  const T = policy.minCellCount;

  // Small cells.
  const small = shown.filter((c) => c.n !== undefined && c.n < T);
  const untraced = shown.filter((c) => c.n === undefined);
  const smallest = small.length ? Math.min(...small.map((c) => c.n!)) : undefined;
  const keyNames = allKeys.map((k) => k.name).join(' × ');
  const byGroup = [...new Map(small.map((c) => [describeCell(allKeys, c), c.n!])).entries()].sort(
    (a, b) => a[1] - b[1],
  );
  const examples = byGroup
    .slice(0, 6)
    .map(([where, n]) => `${where} (${n} ${n === 1 ? 'person' : 'people'})`)
    .join('; ');
  const widest = [...allKeys].filter((k) => k.data).sort((a, b) => b.data!.counts.length - a.data!.counts.length)[0];
  checks.push({
    id: 'small-cells',
    file,
    title: 'Small cells',
    verdict: small.length || untraced.length ? 'failed' : 'passed',
    measured: small.length
      ? `${byGroup.length} of ${new Set(shown.map((c) => describeCell(allKeys, c))).size} cells describe fewer than ${T} people (smallest: ${smallest})`
      : untraced.length
        ? `${untraced.length} cells could not be traced to the data and show no count`
        : `${shown.length} numbers by ${keyNames}, each describing ${T} people or more`,
    threshold: `at least ${T} people behind every number (a zero count too)`,
    reason: small.length
      ? `some numbers describe so few people that they say something about those people (${examples})`
      : untraced.length
        ? 'some cells are groups the data does not have (bands or labels made by the notebook) and the table prints no count for them, so their size cannot be checked'
        : `every number describes at least ${T} people in your data`,
    ...(small.length
      ? {
          suggestion: `suppress the cells under ${T} (leave them empty or write <${T}), round the other counts to the nearest 5, and do not print a total that gives a suppressed cell back${widest ? `; or coarsen ${widest.name} into wider bands` : ''}. Cells to suppress: ${examples}${byGroup.length > 6 ? `, and ${byGroup.length - 6} more` : ''}`,
        }
      : untraced.length
        ? { suggestion: 'ask the expert to add a count column, or to group by the data’s own columns' }
        : {}),
    figures: {
      cells: shown.length,
      small: byGroup.length,
      ...(smallest !== undefined ? { smallest } : {}),
      untraced: untraced.length,
      suppressed: cells.length - shown.length,
      keys: keyNames,
      threshold: T,
    },
  });

  // Differencing: a suppressed count given back by its line's total and the other cells.
  const countCells = cells.filter((c) => countCols.has(c.stat));
  const recovered: string[] = [];
  let lines = 0;
  if (countCells.some((c) => c.suppressed)) {
    const base = Math.max(1, ...statCols.filter((s) => s.kind === 'count').map((s) => s.base));
    // A wide table's columns are one dimension: its cells share a line across them.
    const line = (c: Cell, free: number) =>
      `${pivot ? 'p' : c.stat}|${c.keys.map((v, i) => (i === free ? '*' : (v ?? '∑'))).join('|')}`;
    for (let free = 0; free < allKeys.length; free++) {
      const byLine = new Map<string, Cell[]>();
      for (const c of countCells) {
        const k = line(c, free);
        (byLine.get(k) ?? byLine.set(k, []).get(k)!).push(c);
      }
      for (const group of byLine.values()) {
        const total = group.find((c) => c.keys[free] === null && !c.suppressed);
        const parts = group.filter((c) => c.keys[free] !== null);
        let known = total?.value;
        // A one-way table's total is the table's row count, which the expert knows — if its cells cover every row.
        if (known === undefined && allKeys.length === 1 && t && parts.every((c) => c.n !== undefined)) {
          if (parts.reduce((a, c) => a + c.n!, 0) === t.rows) known = t.rows;
        }
        const hidden = parts.filter((c) => c.suppressed);
        if (known === undefined || hidden.length !== 1) continue;
        lines++;
        const others = parts.filter((c) => !c.suppressed);
        if (others.some((c) => !Number.isFinite(c.value))) continue;
        const value = known - others.reduce((a, c) => a + c.value, 0);
        const slack = base === 1 ? 0 : ((others.length + (total ? 1 : 0)) * base) / 2;
        if (slack < 1 && value < T) recovered.push(`${describeCell(allKeys, hidden[0]!)} = ${value}`);
      }
    }
  }
  checks.push({
    id: 'differencing',
    file,
    title: 'Totals that give a cell back',
    verdict: recovered.length ? 'failed' : lines ? 'passed' : 'not-applicable',
    measured: recovered.length
      ? `${recovered.length} suppressed ${recovered.length === 1 ? 'count is' : 'counts are'} the total minus the other cells: ${recovered.slice(0, 4).join('; ')}`
      : lines
        ? `${lines} line(s) with one suppressed count and a total; none gives it back exactly`
        : 'no suppressed count beside a known total',
    threshold: 'no suppressed count can be worked out from the numbers shown',
    reason: recovered.length
      ? 'the table prints a total and all but one of its parts, so the hidden part is their difference'
      : lines
        ? 'the counts are rounded, so a total minus the other cells does not give the hidden one'
        : 'nothing is hidden that a total could give back',
    ...(recovered.length
      ? {
          suggestion:
            'round every count and the totals to the nearest 5 after suppressing, or suppress a second cell in each such line, or drop the total',
        }
      : {}),
    figures: { recovered: recovered.length, lines },
  });

  // Dominance: sums and means of a numeric column, against the records behind each cell.
  const magnitudes = statCols.filter((s) => (s.kind === 'sum' || s.kind === 'mean') && s.of !== undefined);
  if (!magnitudes.length || !t || !rowGroup) {
    checks.push({
      id: 'dominance',
      file,
      title: 'Dominance',
      verdict: 'not-applicable',
      measured: 'no sum or mean of a numeric column of the data',
      threshold: `largest two records ≤ ${Math.round(policy.dominance * 100)}% of a cell; the rest ≥ ${Math.round(policy.pRatio * 100)}% of the largest`,
      reason:
        'the table shows counts or statistics that are not magnitudes of one column, so no record can dominate a cell',
    });
  } else {
    const dominated: Array<{ where: string; share: number }> = [];
    let checked = 0;
    for (const s of magnitudes) {
      const nums = t.columns[s.of!]!.numbers!;
      const top1 = new Float64Array(groupN.length);
      const top2 = new Float64Array(groupN.length);
      const total = new Float64Array(groupN.length);
      for (let i = 0; i < t.rows; i++) {
        const g = rowGroup[i]!;
        const raw = nums[i]!;
        if (g < 0 || Number.isNaN(raw)) continue;
        const v = Math.abs(raw); // ACRO refuses negative values; their size is what can dominate
        total[g]! += v;
        if (v > top1[g]!) {
          top2[g] = top1[g]!;
          top1[g] = v;
        } else if (v > top2[g]!) top2[g] = v;
      }
      for (const c of cells) {
        if (c.stat !== s.col || c.suppressed || c.group === undefined) continue;
        checked++;
        const g = c.group;
        const tot = total[g]!;
        const nk = tot > 0 ? (top1[g]! + top2[g]!) / tot : 1;
        const p = tot > 0 && top1[g]! > 0 ? (tot - top1[g]! - top2[g]!) / top1[g]! : 0;
        if (nk > policy.dominance || p < policy.pRatio)
          dominated.push({ where: `${s.name} at ${describeCell(allKeys, c)}`, share: nk });
      }
    }
    dominated.sort((a, b) => b.share - a.share);
    const names = magnitudes.map((s) => `${s.name} (${s.kind} of ${t.columns[s.of!]!.name})`).join(', ');
    checks.push({
      id: 'dominance',
      file,
      title: 'Dominance',
      verdict: dominated.length ? 'failed' : 'passed',
      measured: dominated.length
        ? `${dominated.length} of ${checked} cells of ${names} are dominated; the worst: ${dominated
            .slice(0, 3)
            .map((d) => `${d.where}, top two ${Math.round(d.share * 100)}%`)
            .join('; ')}`
        : `${checked} cells of ${names}; none dominated`,
      threshold: `largest two records ≤ ${Math.round(policy.dominance * 100)}% of a cell; the rest ≥ ${Math.round(policy.pRatio * 100)}% of the largest`,
      reason: dominated.length
        ? 'in some cells one or two people’s values make up most of the total, so the number says roughly what those people’s values are'
        : 'no cell’s total is made mostly of one or two people’s values',
      ...(dominated.length
        ? {
            suggestion:
              'suppress those cells, or group them into wider bands so more people contribute, or report counts instead of sums',
          }
        : {}),
      figures: {
        cells: checked,
        dominated: dominated.length,
        ...(dominated[0] ? { worstShare: Math.round(dominated[0].share * 1000) / 1000 } : {}),
      },
    });
  }
  return { groups: true, checks };
}
