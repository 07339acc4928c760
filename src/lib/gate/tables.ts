/**
 * An output read as a table of results: CSV or TSV with a header line, a JSON array of records
 * (`[{"age": "[50-60)", "n": 120}, …]`, pandas `orient="records"`), or pandas' `orient="split"`
 * (`{"columns": […], "data": [[…], …]}`). Every cell comes back as text, as the file wrote it; what
 * the cells mean is decided against the data (cells.ts).
 */

export interface OutputTable {
  columns: string[];
  rows: string[][];
}

/** Cells beyond which a table is not read as one (the row check still reads it). */
export const MAX_TABLE_CELLS = 2_000_000;

function decode(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\ufeff/, '');
  } catch {
    return null;
  }
}

/** RFC 4180 fields: quotes around a field, doubled quotes inside, line ends inside quotes. */
export function parseDelimited(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else field += ch;
    i++;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function cell(v: unknown): string | undefined {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return undefined;
}

function fromRecords(a: unknown[]): OutputTable | null {
  if (!a.length || !a.every((r) => r && typeof r === 'object' && !Array.isArray(r))) return null;
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of a as Record<string, unknown>[])
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
  const rows: string[][] = [];
  for (const r of a as Record<string, unknown>[]) {
    const row: string[] = [];
    for (const k of columns) {
      const v = cell(r[k]);
      if (v === undefined) return null; // nested values: not a flat table
      row.push(v);
    }
    rows.push(row);
  }
  return { columns, rows };
}

/**
 * Reads an output as a table, or null when it is not one.
 * @param path the output's name: `.csv` and `.tsv` are read as delimited text, `.json` as JSON
 */
export function readTable(path: string, bytes: Uint8Array): OutputTable | null {
  const ext = path.includes('.') ? path.split('.').pop()!.toLowerCase() : '';
  if (ext !== 'csv' && ext !== 'tsv' && ext !== 'json') return null;
  const text = decode(bytes);
  if (text === null) return null;
  if (ext === 'json') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return null;
    }
    let t: OutputTable | null = null;
    if (Array.isArray(v)) t = fromRecords(v);
    else if (v && typeof v === 'object') {
      const o = v as { columns?: unknown; data?: unknown };
      if (Array.isArray(o.columns) && Array.isArray(o.data) && o.columns.every((c) => typeof c === 'string')) {
        const rows: string[][] = [];
        for (const r of o.data) {
          if (!Array.isArray(r) || r.length !== o.columns.length) return null;
          const row = r.map(cell);
          if (row.some((x) => x === undefined)) return null;
          rows.push(row as string[]);
        }
        t = { columns: o.columns as string[], rows };
      }
    }
    return t && t.columns.length >= 2 && t.rows.length && t.rows.length * t.columns.length <= MAX_TABLE_CELLS
      ? t
      : null;
  }
  const rows = parseDelimited(text, ext === 'tsv' ? '\t' : ',');
  if (rows.length < 2) return null;
  const columns = rows[0]!;
  if (columns.length < 2 || (rows.length - 1) * columns.length > MAX_TABLE_CELLS) return null;
  const body = rows
    .slice(1)
    .map((r) =>
      r.length >= columns.length
        ? r.slice(0, columns.length)
        : [...r, ...Array<string>(columns.length - r.length).fill('')],
    );
  return { columns, rows: body };
}
