/** One benchmark result. `ratio` is value / baseline, both measured in the same run. */
export interface BenchRow {
  section: string;
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
  ratio?: number;
  goal?: string;
  note?: string;
  /** A stage of a path (the breakdown table): the thread it ran on, and its share of the path's wall time. */
  stage?: { thread: string; share: number };
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/**
 * A path's breakdown as rows: each thread's stages in ms per run (`stages` summed over `runs`
 * runs, as `traceSums` keeps them), their share of the path's wall time, and the main thread's
 * `rest` (what no stage covers). Threads named `WebCrypto`
 * and `messages` hold elapsed times that overlap the others, not busy time.
 */
export function stageRows(
  section: string,
  path: string,
  stages: Record<string, Record<string, number>>,
  wallMs: number,
  runs: number,
  rest = 'rest (zip framing, streams, scheduling, idle)',
): BenchRow[] {
  const row = (thread: string, stage: string, ms: number): BenchRow => ({
    section,
    name: `${path}: ${stage}`,
    value: ms,
    unit: 'ms',
    stage: { thread, share: ms / wallMs },
  });
  const rows = [row('main', 'whole path (wall)', wallMs)];
  const threads = Object.keys(stages).sort((a, b) => (a === 'main' ? -1 : b === 'main' ? 1 : a.localeCompare(b)));
  for (const thread of threads) {
    const byStage = Object.entries(stages[thread]!).sort((a, b) => b[1] - a[1]);
    for (const [stage, ms] of byStage) rows.push(row(thread, stage, ms / runs));
  }
  const main = Object.values(stages.main ?? {}).reduce((a, b) => a + b, 0) / runs;
  rows.push(row('main', rest, Math.max(0, wallMs - main)));
  return rows;
}

/** The results as Markdown tables, as docs/BENCHMARKS.md records them: the results, then where the time goes. */
export function toMarkdown(rows: BenchRow[]): string {
  const lines = ['| area | measurement | result | baseline (same run) | ratio | goal |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    if (r.stage) continue;
    const base = r.baseline !== undefined ? `${fmt(r.baseline)} ${r.unit} (${r.baselineName ?? 'baseline'})` : '';
    const ratio = r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '';
    lines.push(
      `| ${r.section} | ${r.name}${r.note ? ` — ${r.note}` : ''} | ${fmt(r.value)} ${r.unit} | ${base} | ${ratio} | ${r.goal ?? ''} |`,
    );
  }
  const stages = rows.filter((r) => r.stage);
  if (stages.length) {
    lines.push(
      '',
      'Where the time goes (ms per run, mean of the measured runs; share of the path’s wall time; stages marked elapsed, and the threads `WebCrypto`, `messages` and `first part`, overlap the others):',
      '',
      '| area | path: stage | thread | ms | share |',
      '|---|---|---|---|---|',
    );
    for (const r of stages)
      lines.push(
        `| ${r.section} | ${r.name} | ${r.stage!.thread} | ${fmt(r.value)} | ${(100 * r.stage!.share).toFixed(0)}% |`,
      );
  }
  return lines.join('\n');
}
