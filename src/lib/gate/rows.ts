/**
 * Training rows inside an output (docs/DISCLOSURE.md): a model that stores rows — nearest
 * neighbours, support vectors, a lookup table, a "model" that is the table — holds records whose
 * values are training rows' values, in the same columns from one record to the next.
 *
 * Records of one width (records.ts) are read together:
 * 1. **anchors**: for a sample of them, the rows holding their two rarest values are found through
 *    the data's postings and the best row is matched value by value, each value in its own column;
 * 2. **layout**: the column each position matches most often (a stored row keeps its columns in a
 *    fixed order); at least {@link MIN_MATCHED} positions, and 80 % of them, must have one;
 * 3. **lookup**: every record's values in those columns are looked up among the training rows'
 *    (one hash of the data projected on them): how many rows hold exactly that combination;
 * 4. **chance**: the same lookup for the records with each position's values shuffled between
 *    records (or, for fewer than 30 records, drawn from the data's own columns). Small integers
 *    match some row by chance — 16 % of random vectors of the data's own values do, measured — so
 *    records count as stored rows only when they match far more often than chance (a binomial
 *    test, p < 0.001).
 *
 * A record identifies someone when fewer than `minCellCount` rows share its values (SACRO-ML's
 * k-anonymity risk, with ACRO's threshold); the check fails when an output stores such rows.
 *
 * What it cannot see: values transformed before storing (standardised, scaled, one-hot, hashed),
 * records of fewer than 4 values, records whose every value is held by more than
 * {@link MAX_POSTING} rows (so no anchor), and formats read as bytes (ONNX). The membership audit
 * measures such models by what they do instead.
 */
import { seededRandom } from '../data/index.ts';
import type { ReviewMeter } from './budget.ts';
import { localCode, postings, type DataTokens, type TableTokens } from './tokens.ts';

/** Fewest values a record must share with one row. */
export const MIN_MATCHED = 4;
/** Rows a value may be held by and still anchor a record. */
export const MAX_POSTING = 4096;
/** Records looked up per width; beyond, an even sample, and the counts are scaled. */
export const MAX_LOOKUPS = 20_000;
/** Records of one width anchored to learn their layout. */
const MAX_ANCHORS = 2000;
const MAX_CANDIDATES = 32;
/** Widths (record lengths) read per output, the most frequent first. */
const MAX_WIDTHS = 24;
/** A layout is stored rows when chance explains its matches with probability below this. */
export const ROWS_P = 0.001;

export interface RowScan {
  /** Records in the output (of at least 4 values and at most a row's width). */
  records: number;
  /** Records looked up (all of them, or an even sample). */
  examined: number;
  /** Records, of layouts that store rows, that are a training row's values (scaled when sampled). */
  rows: number;
  /** Of those, the ones fewer than the threshold share: they point at a few people. */
  identifying: number;
  /** How many of `identifying` chance alone would give (the shuffled records'). */
  expected: number;
  /** The columns of the layouts that store rows. */
  columns: string[];
  /** The smallest number of people a stored record pointed at. */
  smallest?: number;
  /** The binomial p-value of the strongest layout (1: none found). */
  p: number;
}

interface Place {
  col: number;
  local: number;
  count: number;
}

/** ln of the binomial upper tail P(X ≥ k), X ~ Bin(n, p), summed in log space. */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const lnf = (x: number) => {
    // ln(x!) by Stirling's series beyond 20, exact below.
    if (x < 20) {
      let s = 0;
      for (let i = 2; i <= x; i++) s += Math.log(i);
      return s;
    }
    return x * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI * x) + 1 / (12 * x) - 1 / (360 * x ** 3);
  };
  let lnTerm = lnf(n) - lnf(k) - lnf(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
  let sum = 0;
  const top = lnTerm;
  for (let i = k; i <= n; i++) {
    sum += Math.exp(lnTerm - top);
    if (i < n) lnTerm += Math.log((n - i) / (i + 1)) + Math.log(p) - Math.log1p(-p);
    if (lnTerm - top < -40) break;
  }
  return Math.min(1, Math.exp(top + Math.log(sum)));
}

/**
 * Looks an output's records up in the training rows.
 * @param seen how many records the output had (records.ts keeps at most MAX_RECORDS)
 */
export function findRows(
  records: string[][],
  seen: number,
  data: DataTokens,
  minCellCount: number,
  meter: ReviewMeter,
  what: string,
): RowScan {
  let best: RowScan = { records: seen, examined: 0, rows: 0, identifying: 0, expected: 0, columns: [], p: 1 };
  data.tables.forEach((t, ti) => {
    const r = scanTable(records, seen, data, ti, t, minCellCount, meter, what);
    if (r.identifying > best.identifying || (r.identifying === best.identifying && r.examined > best.examined))
      best = r;
  });
  return best;
}

function scanTable(
  records: string[][],
  seen: number,
  data: DataTokens,
  ti: number,
  t: TableTokens,
  minCellCount: number,
  meter: ReviewMeter,
  what: string,
): RowScan {
  const cols = t.columns;
  const stamp = new Int32Array(t.rows);
  const stamp2 = new Int32Array(t.rows);
  let epoch = 0;
  const placeCache = new Map<string, Place[]>();
  const placesOf = (tok: string): Place[] => {
    let out = placeCache.get(tok);
    if (out) return out;
    out = [];
    const g = data.ids.get(tok);
    if (g !== undefined) {
      const { start, triples: p } = data.places;
      for (let i = 3 * start[g]!; i < 3 * start[g + 1]!; i += 3)
        if (p[i] === ti) out.push({ col: p[i + 1]!, local: p[i + 2]!, count: cols[p[i + 1]!]!.counts[p[i + 2]!]! });
    }
    placeCache.set(tok, out);
    return out;
  };
  const rowsOf = (ps: Place[], each: (row: number) => void) => {
    for (const p of ps) {
      const { start, rows } = postings(cols[p.col]!);
      for (let i = start[p.local]!; i < start[p.local + 1]!; i++) each(rows[i]!);
    }
  };

  /** The best-matching training row's columns for one record, by its two rarest values; null if none. */
  const anchor = (rec: string[]): Array<[number, number]> | null => {
    const places = rec.map(placesOf);
    const order = places
      .map((ps, j) => [ps.reduce((a, p) => a + p.count, 0), j] as const)
      .filter(([s]) => s > 0)
      .sort((a, b) => a[0] - b[0]);
    if (order.length < MIN_MATCHED || order[1]![0] > MAX_POSTING) return null;
    epoch++;
    rowsOf(places[order[0]![1]]!, (r) => (stamp[r] = epoch));
    const candidates: number[] = [];
    rowsOf(places[order[1]![1]]!, (r) => {
      if (stamp[r] === epoch && stamp2[r] !== epoch && candidates.length < MAX_CANDIDATES) {
        stamp2[r] = epoch;
        candidates.push(r);
      }
    });
    let best: Array<[number, number]> = [];
    for (const r of candidates) {
      const used = new Set<number>();
      const matched: Array<[number, number]> = []; // [position, column]
      rec.forEach((_, j) => {
        for (const p of places[j]!)
          if (!used.has(p.col) && cols[p.col]!.codes[r] === p.local) {
            used.add(p.col);
            matched.push([j, p.col]);
            break;
          }
      });
      if (matched.length > best.length) best = matched;
    }
    return best.length >= MIN_MATCHED && best.length >= 0.8 * rec.length ? best : null;
  };

  const byWidth = new Map<number, string[][]>();
  for (const r of records) (byWidth.get(r.length) ?? byWidth.set(r.length, []).get(r.length)!).push(r);
  const widths = [...byWidth].sort((a, b) => b[1].length - a[1].length).slice(0, MAX_WIDTHS);
  let examined = 0;
  let rowsFound = 0;
  let identifying = 0;
  let expected = 0;
  let smallest: number | undefined;
  let bestP = 1;
  const columns = new Set<string>();
  const scale = records.length ? seen / records.length : 0;
  for (const [width, group] of widths) {
    meter.checkTime(what);
    // 1–2. Anchors, and the layout they agree on.
    const votes = Array.from({ length: width }, () => new Map<number, number>());
    let anchored = 0;
    const aStep = Math.max(1, Math.ceil(group.length / MAX_ANCHORS));
    for (let i = 0; i < group.length; i += aStep) {
      if ((i & 0xff) === 0) meter.checkTime(what);
      const m = anchor(group[i]!);
      if (!m) continue;
      anchored++;
      for (const [j, c] of m) votes[j]!.set(c, (votes[j]!.get(c) ?? 0) + 1);
    }
    if (!anchored) continue;
    const layout: Array<[number, number]> = [];
    const taken = new Set<number>();
    votes
      .map((v, j) => [j, ...([...v].sort((a, b) => b[1] - a[1])[0] ?? [-1, 0])] as const)
      .sort((a, b) => b[2] - a[2])
      .forEach(([j, c, n]) => {
        if (c >= 0 && n >= Math.max(1, 0.5 * anchored) && !taken.has(c)) {
          taken.add(c);
          layout.push([j, c]);
        }
      });
    if (layout.length < MIN_MATCHED || layout.length < 0.8 * width) continue;
    // 3. The training rows projected on the layout's columns: how many hold each combination.
    const held = new Map<string, number>();
    for (let r = 0; r < t.rows; r++) {
      if ((r & 0xffff) === 0) meter.checkTime(what);
      let key = '';
      for (const [, c] of layout) key += `${cols[c]!.codes[r]},`;
      held.set(key, (held.get(key) ?? 0) + 1);
    }
    const lookupCount = (rec: string[]): number => {
      let key = '';
      for (const [j, c] of layout) {
        const code = localCode(data, cols[c]!, rec[j]!);
        if (code < 0) return 0;
        key += `${code},`;
      }
      return held.get(key) ?? 0;
    };
    const step = Math.max(1, Math.ceil(group.length / MAX_LOOKUPS));
    const sample: string[][] = [];
    for (let i = 0; i < group.length; i += step) sample.push(group[i]!);
    let found = 0;
    let few = 0;
    let least: number | undefined;
    for (const rec of sample) {
      const k = lookupCount(rec);
      if (k < 1) continue;
      found++;
      if (k < minCellCount) {
        few++;
        least = least === undefined ? k : Math.min(least, k);
      }
    }
    // 4. Chance: the same values, shuffled between records position by position (or drawn from the data).
    let chanceFew = 0;
    let chanceN = 0;
    const rand = seededRandom(width * 7919 + group.length);
    if (sample.length >= 30) {
      for (let round = 0; round < 3; round++) {
        const perm = layout.map(() => shuffled(sample.length, rand));
        sample.forEach((_, i) => {
          const rec: string[] = new Array<string>(width).fill('');
          layout.forEach(([j], q) => (rec[j] = sample[perm[q]![i]!]![j]!));
          const k = lookupCount(rec);
          chanceN++;
          if (k >= 1 && k < minCellCount) chanceFew++;
        });
      }
    } else {
      for (let s = 0; s < 2000; s++) {
        let key = '';
        for (const [, c] of layout) key += `${cols[c]!.codes[Math.floor(rand() * t.rows)]},`;
        const k = held.get(key) ?? 0;
        chanceN++;
        if (k >= 1 && k < minCellCount) chanceFew++;
      }
    }
    const p0 = (chanceFew + 1) / (chanceN + 2);
    const p = binomialTail(few, sample.length, p0);
    examined += sample.length;
    const groupScale = (group.length / sample.length) * scale;
    if (few > 0 && p < ROWS_P) {
      rowsFound += found * groupScale;
      identifying += few * groupScale;
      expected += p0 * sample.length * groupScale;
      for (const [, c] of layout) columns.add(cols[c]!.name);
      if (least !== undefined) smallest = smallest === undefined ? least : Math.min(smallest, least);
    }
    bestP = Math.min(bestP, p);
  }
  return {
    records: seen,
    examined,
    rows: Math.round(rowsFound),
    identifying: Math.round(identifying),
    expected: Math.round(expected),
    columns: [...columns],
    ...(smallest !== undefined ? { smallest } : {}),
    p: bestP,
  };
}

function shuffled(n: number, rand: () => number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const x = a[i]!;
    a[i] = a[j]!;
    a[j] = x;
  }
  return a;
}
