/** Columns read in parts joined into the column one read of the whole file builds. */
import { fitted } from '../columns/arrays.ts';
import type { BuiltColumn } from '../columns/builder.ts';
import { valueText } from '../columns/scalars.ts';

/** The column's array for `total` values: the first part's own array when it has room (see PartSpec.room), else a new one. */
function arrayFor<T extends Int32Array | Float64Array | Uint8Array>(Ctor: { new (b: ArrayBuffer, o: number, n: number): T; new (n: number): T; BYTES_PER_ELEMENT: number }, first: ArrayBufferView | undefined, total: number): { array: T; inPlace: boolean } {
  if (first && first.constructor === Ctor && first.byteOffset === 0 && first.buffer.byteLength >= total * Ctor.BYTES_PER_ELEMENT) return { array: new Ctor(first.buffer as ArrayBuffer, 0, total), inPlace: true };
  return { array: new Ctor(total), inPlace: false };
}

/**
 * One column from its parts, as one ColumnBuilder would have built it from all the rows: numbers
 * end to end (Float64 if any part needed it); text through one dictionary in first-seen order, with
 * one-byte codes only when it has at most 256 words and was text from the start (a column turned
 * into text has Int32 codes, as ColumnBuilder gives it), missing text as -1 in Int32 codes. The
 * later parts go into the first part's arrays when those have room, so the table is not copied.
 */
export function joinColumn(parts: BuiltColumn[], rows: number[], offsets: number[]): BuiltColumn {
  const total = rows.reduce((a, b) => a + b, 0);
  const { name } = parts[0]!;
  const validFor = parts.some((p) => p.valid) ? arrayFor(Uint8Array, parts[0]!.valid, total) : undefined;
  const valid = validFor?.array;
  const putValid = (k: number, o: number) => {
    if (!valid || (k === 0 && validFor.inPlace)) return;
    const v = parts[k]!.valid;
    if (v) valid.set(v.subarray(0, rows[k]!), o);
    else valid.fill(1, o, o + rows[k]!);
  };
  if (!parts.some((p) => p.type === 'string')) {
    const type = parts[0]!.type;
    const Ctor = type === 'bool' ? Uint8Array : type === 'int' && parts.every((p) => p.values instanceof Int32Array) ? Int32Array : Float64Array;
    const { array: values, inPlace } = arrayFor<Int32Array | Float64Array | Uint8Array>(Ctor, parts[0]!.values, total);
    let o = 0;
    parts.forEach((p, k) => {
      if (k > 0 || !inPlace) values.set(p.values.subarray(0, rows[k]!), o);
      putValid(k, o);
      o += rows[k]!;
    });
    return { name, type, values: fitted(values, total), ...(valid ? { valid: fitted(valid, total) } : {}) };
  }
  const words: string[] = [];
  const index = new Map<string, number>();
  const codeOf = (w: string) => {
    let c = index.get(w);
    if (c === undefined) {
      c = words.length;
      index.set(w, c);
      words.push(w);
    }
    return c;
  };
  // First every part's codes in the joined dictionary (so its size, and the codes' width, are
  // known): a part still holding numbers is turned into text row by row, a text part is mapped
  // word by word.
  const mapped = parts.map((p, k) => {
    if (p.type !== 'string') {
      const codes = new Int32Array(rows[k]!);
      for (let i = 0; i < codes.length; i++) codes[i] = p.valid && !p.valid[i] ? -1 : codeOf(valueText(p.type, p.values[i]!));
      return { codes };
    }
    return { remap: Int32Array.from(p.dictionary!, codeOf) };
  });
  const demotedAt = parts.findIndex((p) => p.demoted);
  const wide = demotedAt >= 0 || words.length > 256;
  // (The first part's words are the dictionary's first, in its order: its codes stand, in place.)
  const { array: values, inPlace } = arrayFor<Int32Array | Uint8Array>(wide ? Int32Array : Uint8Array, parts[0]!.type === 'string' ? parts[0]!.values : undefined, total);
  const missing = wide ? -1 : 0;
  let o = 0;
  parts.forEach((p, k) => {
    const m = mapped[k]!;
    const n = rows[k]!;
    const out = values.subarray(o, o + n);
    if (k === 0 && inPlace) {
      // Already there.
    } else if (m.codes) {
      for (let i = 0; i < n; i++) out[i] = m.codes[i]! < 0 ? missing : m.codes[i]!;
    } else if (k === 0 && p.values.constructor === values.constructor) {
      out.set(p.values.subarray(0, n));
    } else {
      // One table lookup per row: slot 0 is for -1 (missing in Int32 codes); missing rows of
      // one-byte codes (0 with `valid` 0) are set after.
      const table = new Int32Array(m.remap!.length + 1);
      table[0] = missing;
      table.set(m.remap!, 1);
      const v = p.values;
      for (let i = 0; i < n; i++) out[i] = table[v[i]! + 1]!;
      const ok = p.valid;
      if (ok && v instanceof Uint8Array) for (let i = 0; i < n; i++) if (!ok[i]) out[i] = missing;
    }
    putValid(k, o);
    o += n;
  });
  const col: BuiltColumn = { name, type: 'string', values: fitted(values, total), dictionary: words, ...(valid ? { valid: fitted(valid, total) } : {}) };
  if (demotedAt >= 0) {
    const d = parts[demotedAt]!.demoted!;
    col.demoted = { ...d, line: d.line + offsets[demotedAt]! };
  }
  return col;
}
