/**
 * The disclosure checks of the gate (docs/DISCLOSURE.md): does an output say something about the
 * people in the data? With the data at hand, every output is read
 *
 * - as a **table of results** (tables.ts → cells.ts): small cells, totals that give a suppressed cell
 *   back, dominance;
 * - otherwise as a **model** (records.ts): training rows stored in it (rows.ts), and its size — the
 *   numbers it holds against the rows it was trained on (SACRO-ML's residual degrees of freedom).
 *
 * The membership audit (membership.ts) needs a sandbox and is added by the owner's run (lib/runs).
 * Everything here counts inside the review's deadline: what does not finish in it fails.
 */
import type { SandboxTable } from '../sandbox/index.ts';
import { ReviewLimitError, ReviewMeter } from './budget.ts';
import { reviewTable, type CellPolicy } from './cells.ts';
import type { GateCheck } from './check.ts';
import { readRecords } from './records.ts';
import { findRows, MIN_MATCHED } from './rows.ts';
import { readTable } from './tables.ts';
import { tokenizeTables } from './tokens.ts';

export interface DisclosurePolicy extends CellPolicy {
  maxParamsPerRow: number;
  /** Outputs the manifest declares tables of counts or aggregates. */
  aggregates?: string[];
}

export interface DisclosureReview {
  checks: GateCheck[];
  /** Outputs read as tables of the data's groups. */
  tables: string[];
  ms: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Reviews a run's outputs for disclosure.
 * @param tables the rows the notebook saw (the held-back rows are not among them)
 */
export function reviewDisclosure(
  outputs: Array<{ path: string; bytes: Uint8Array }>,
  tables: SandboxTable[],
  policy: DisclosurePolicy,
  meter: ReviewMeter,
): DisclosureReview {
  const t0 = performance.now();
  const checks: GateCheck[] = [];
  const groupTables: string[] = [];
  if (!tables.length) return { checks, tables: groupTables, ms: 0 };
  const data = tokenizeTables(tables);
  const trainingRows = Math.max(...tables.map((t) => t.rowCount));
  const widest = Math.max(...tables.map((t) => t.columns.length));
  const isKnown = (tok: string) => data.ids.has(tok);
  const declared = new Set(policy.aggregates ?? []);
  let numbers = 0;
  let estimated = false;
  const counted: string[] = [];
  const stopped = (file: string, id: string, title: string, e: ReviewLimitError): GateCheck => ({
    id,
    file,
    title,
    verdict: 'failed',
    measured: 'not finished',
    reason: `the check could not finish: ${e.message}`,
    suggestion: 'raise the time limit and run again',
  });
  for (const o of outputs) {
    try {
      meter.checkTime(o.path);
      const table = readTable(o.path, o.bytes);
      if (table) {
        const r = reviewTable(o.path, table, data, policy, declared.has(o.path), meter);
        checks.push(...r.checks);
        if (r.groups) {
          groupTables.push(o.path);
          continue;
        }
      } else if (declared.has(o.path)) {
        checks.push({
          id: 'small-cells',
          file: o.path,
          title: 'Small cells',
          verdict: 'failed',
          measured: 'not readable as a table',
          threshold: `each cell describes at least ${policy.minCellCount} people`,
          reason:
            'the bundle declares this file a table of results, but it is not CSV, TSV or a JSON list of records, so its cells cannot be checked',
          suggestion: 'ask the expert to write it as CSV with a header line',
        });
        continue;
      }
    } catch (e) {
      if (!(e instanceof ReviewLimitError)) throw e;
      checks.push(stopped(o.path, 'small-cells', 'Small cells', e));
      continue;
    }
    try {
      const rec = readRecords(o.path, o.bytes, isKnown, Math.ceil(widest * 1.25) + 4, meter);
      if (rec.image) continue;
      numbers += rec.numbers;
      estimated ||= rec.estimated;
      counted.push(o.path);
      const scan = findRows(rec.records, rec.seen, data, policy.minCellCount, meter, o.path);
      const failed = scan.identifying > 0;
      checks.push({
        id: 'rows',
        file: o.path,
        title: 'Training rows inside',
        verdict: failed ? 'failed' : 'passed',
        measured: failed
          ? `${fmt(scan.identifying)} of ${fmt(scan.records)} records are training rows' values (${scan.columns.join(', ')}) that fewer than ${policy.minCellCount} people share${scan.smallest !== undefined ? ` (as few as ${scan.smallest})` : ''}; chance would give ${fmt(scan.expected)}`
          : scan.records
            ? `no layout of ${fmt(scan.records)} records matches training rows more than chance`
            : `no run of ${MIN_MATCHED} or more values that could be a row`,
        threshold: `no stored row that fewer than ${policy.minCellCount} people share`,
        reason: failed
          ? 'the file stores rows of your data: whoever has it holds those people’s values'
          : 'no sequence of values in the file is one person’s row more often than chance would make it',
        ...(failed
          ? {
              suggestion:
                'ask for a model that keeps parameters rather than rows (a regression, a tree with large leaves), or for stored rows to be replaced by averages over groups of at least ' +
                policy.minCellCount +
                ' people',
            }
          : {}),
        figures: {
          records: scan.records,
          examined: scan.examined,
          rows: scan.rows,
          identifying: scan.identifying,
          expected: scan.expected,
          p: Number(scan.p.toPrecision(3)),
          ...(scan.smallest !== undefined ? { smallest: scan.smallest } : {}),
        },
      });
    } catch (e) {
      if (!(e instanceof ReviewLimitError)) throw e;
      checks.push(stopped(o.path, 'rows', 'Training rows inside', e));
    }
  }
  const perRow = numbers / Math.max(1, trainingRows);
  checks.push(
    counted.length
      ? {
          id: 'params',
          title: 'Size against the data',
          verdict: perRow > policy.maxParamsPerRow ? 'failed' : 'passed',
          measured: `${estimated ? 'about ' : ''}${fmt(numbers)} numbers in ${counted.join(', ')} for ${fmt(trainingRows)} training rows (${perRow < 0.01 ? perRow.toExponential(1) : perRow.toFixed(2)} per row)`,
          threshold: `at most ${policy.maxParamsPerRow} per training row`,
          reason:
            perRow > policy.maxParamsPerRow
              ? 'the model holds more numbers than the data has people to spare: it has room to store something about each of them'
              : 'the model is small beside the data it learned from',
          ...(perRow > policy.maxParamsPerRow
            ? { suggestion: 'ask for a smaller model (fewer features, fewer trees or layers), or train on more rows' }
            : {}),
          figures: { numbers, trainingRows, perRow: Number(perRow.toPrecision(3)), estimated },
        }
      : {
          id: 'params',
          title: 'Size against the data',
          verdict: 'not-applicable',
          measured: 'no model among the outputs',
          threshold: `at most ${policy.maxParamsPerRow} per training row`,
          reason: groupTables.length
            ? 'the outputs are tables of results, which the table checks read'
            : 'there is no output to measure',
        },
  );
  return { checks, tables: groupTables, ms: performance.now() - t0 };
}
