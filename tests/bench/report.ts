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
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The results as a Markdown table, as docs/BENCHMARKS.md records them. */
export function toMarkdown(rows: BenchRow[]): string {
  const lines = ['| area | measurement | result | baseline (same run) | ratio | goal |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const base = r.baseline !== undefined ? `${fmt(r.baseline)} ${r.unit} (${r.baselineName ?? 'baseline'})` : '';
    const ratio = r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '';
    lines.push(
      `| ${r.section} | ${r.name}${r.note ? ` — ${r.note}` : ''} | ${fmt(r.value)} ${r.unit} | ${base} | ${ratio} | ${r.goal ?? ''} |`,
    );
  }
  return lines.join('\n');
}
