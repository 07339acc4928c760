/**
 * The head of a CSV or TSV output: the first rows, parsed with quotes as RFC 4180 has them, from the
 * first bytes only. Capped in rows, columns and characters per cell, so a 50 MB file previews as fast
 * as a small one.
 */

export interface TableHead {
  header: string[];
  rows: string[][];
  /** More rows (or columns) exist than are shown. */
  truncated: boolean;
}

export interface TableHeadLimits {
  maxRows: number;
  maxColumns: number;
  maxCell: number;
  maxBytes: number;
}

export const TABLE_HEAD_LIMITS: TableHeadLimits = { maxRows: 20, maxColumns: 30, maxCell: 80, maxBytes: 64 * 1024 };

/** Parses the first rows of delimited text. A record cut by the byte cap is dropped, not shown half. */
export function tableHead(bytes: Uint8Array, delimiter: string, limits: Partial<TableHeadLimits> = {}): TableHead {
  const lim = { ...TABLE_HEAD_LIMITS, ...limits };
  const complete = bytes.byteLength <= lim.maxBytes;
  const text = new TextDecoder('utf-8').decode(bytes.subarray(0, lim.maxBytes)).replace(/^\ufeff/, '');
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  let truncated = !complete;
  const endField = () => {
    record.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    records.push(record);
    record = [];
  };
  for (; i < text.length && records.length <= lim.maxRows; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === delimiter) endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else field += c;
  }
  // The last record counts only if the whole file was read (otherwise it may be cut mid-way).
  if (i >= text.length && complete && (field !== '' || record.length)) endRecord();
  if (records.length > lim.maxRows || i < text.length) truncated = true;
  const cell = (s: string) => (s.length > lim.maxCell ? s.slice(0, lim.maxCell) + '…' : s);
  const width = (r: string[]) => {
    if (r.length > lim.maxColumns) truncated = true;
    return r.slice(0, lim.maxColumns).map(cell);
  };
  const [header = [], ...rows] = records.slice(0, lim.maxRows + 1);
  return { header: width(header), rows: rows.slice(0, lim.maxRows).map(width), truncated };
}
