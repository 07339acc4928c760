/** JSON lines: one JSON object per line, its values as the text a CSV would hold. */
import { IngestError } from '../../errors.ts';
import type { TableAssembler } from '../assembler.ts';
import type { RowReader } from '../types.ts';

/** A JSON value as the text a CSV would hold, so one inference serves every format. */
export function jsonValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

/** A JSON lines file decoded by `decoder`: the first object's keys name the columns. */
export function jsonlReader(asm: TableAssembler, decoder: TextDecoder): RowReader {
  let carry = '';
  let line = 0;
  let keys: string[] | undefined;
  const row = (text: string) => {
    line++;
    const t = text.trim();
    if (!t) return;
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch {
      throw new IngestError('bad-json', `line ${line} is not valid JSON; each line must hold one JSON object`);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new IngestError('bad-json', `line ${line} is not a JSON object`);
    const o = obj as Record<string, unknown>;
    if (!keys) {
      keys = Object.keys(o);
      asm.setHeader(keys);
    }
    const extra = Object.keys(o).find((k) => !keys!.includes(k));
    if (extra) throw new IngestError('ragged', `line ${line} has a field "${extra.slice(0, 40)}" that the first line does not; every line needs the same fields`);
    asm.add(keys.map((k) => jsonValue(o[k])), line);
  };
  const feed = (text: string) => {
    const parts = (carry + text).split('\n');
    carry = parts.pop()!;
    for (const p of parts) row(p);
  };
  return {
    push: (piece) => feed(decoder.decode(piece, { stream: true })),
    finish: () => {
      feed(decoder.decode());
      if (carry) row(carry);
      if (!keys) throw new IngestError('empty', 'the file holds no JSON objects');
    },
  };
}
