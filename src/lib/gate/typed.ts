/**
 * The headers of the typed array formats a model is saved in, so that their bodies are read as the
 * numbers they declare: NumPy's .npy (NEP 1 / numpy.lib.format: magic, version, a Python-literal
 * header with `descr` and `shape`) and safetensors (an 8-byte little-endian header length, a JSON
 * header of `dtype`, `shape`, `data_offsets`). An .npz is a zip of .npy files, read by zip.ts.
 * ONNX needs no parser here: its tensors' raw_data is a plain array that the binary scan reads.
 */
import type { ElementType } from './binary.ts';

export interface TypedArrayRef {
  name: string;
  type: ElementType;
  little: boolean;
  body: Uint8Array;
  /** The declared shape, when the header gives one (the row check reads 2-D arrays by rows). */
  shape?: number[];
  /** NumPy's `fortran_order`: the last index varies slowest. */
  fortran?: boolean;
}

const NPY_TYPES: Record<string, ElementType> = {
  i1: 'i1',
  i2: 'i2',
  i4: 'i4',
  i8: 'i8',
  u1: 'u1',
  u2: 'u2',
  u4: 'u4',
  u8: 'u8',
  f4: 'f4',
  f8: 'f8',
};

/** An .npy's array, or null when `b` is not one or its dtype is not a plain number. */
export function parseNpy(b: Uint8Array): TypedArrayRef | null {
  // \x93NUMPY, major, minor, header length (2 bytes in version 1, 4 in 2 and 3).
  if (b.length < 10 || b[0] !== 0x93 || String.fromCharCode(...b.subarray(1, 6)) !== 'NUMPY') return null;
  const major = b[6]!;
  const hlen = major === 1 ? b[8]! | (b[9]! << 8) : (b[8]! | (b[9]! << 8) | (b[10]! << 16) | (b[11]! << 24)) >>> 0;
  const start = major === 1 ? 10 : 12;
  if (start + hlen > b.length) return null;
  const header = new TextDecoder('latin1').decode(b.subarray(start, start + hlen));
  const m = /'descr':\s*'([<>|=])([iuf])(\d+)'/.exec(header);
  if (!m) return null;
  const type = NPY_TYPES[`${m[2]}${m[3]}`];
  if (!type) return null;
  const shape = /'shape':\s*\(([\d\s,]*)\)/.exec(header)?.[1];
  return {
    name: 'npy',
    type,
    little: m[1] !== '>',
    body: b.subarray(start + hlen),
    ...(shape !== undefined
      ? {
          shape: shape
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
            .map(Number),
        }
      : {}),
    fortran: /'fortran_order':\s*True/.test(header),
  };
}

const ST_TYPES: Record<string, ElementType> = {
  I8: 'i1',
  I16: 'i2',
  I32: 'i4',
  I64: 'i8',
  U8: 'u1',
  U16: 'u2',
  U32: 'u4',
  U64: 'u8',
  F32: 'f4',
  F64: 'f8',
};

/** A safetensors file's numeric tensors (little-endian by the format), or null when it is not one. */
export function parseSafetensors(b: Uint8Array): TypedArrayRef[] | null {
  if (b.length < 10) return null;
  const len = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  if (b[4] || b[5] || b[6] || b[7] || 8 + len > b.length || b[8] !== 0x7b /* { */) return null;
  let header: Record<string, { dtype?: string; data_offsets?: [number, number]; shape?: unknown }>;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + len)));
  } catch {
    return null;
  }
  const data = b.subarray(8 + len);
  const out: TypedArrayRef[] = [];
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__' || !t || !Array.isArray(t.data_offsets)) continue;
    const type = ST_TYPES[t.dtype ?? ''];
    const [s, e] = t.data_offsets;
    if (!type || !(s >= 0 && e >= s && e <= data.length)) continue;
    const shape =
      Array.isArray(t.shape) && t.shape.every((x) => Number.isSafeInteger(x) && x >= 0)
        ? (t.shape as number[])
        : undefined;
    out.push({ name, type, little: true, body: data.subarray(s, e), ...(shape ? { shape } : {}) });
  }
  return out;
}

/**
 * The compressed parts of a PNG (ISO/IEC 15948 §5, §11): the image data (all IDAT chunks together
 * are one zlib stream) and compressed text (zTXt; iTXt with its compression flag). Null when `b` is
 * not a PNG; the streams are zlib, header included.
 */
export function pngStreams(b: Uint8Array): Array<{ name: string; zlib: Uint8Array }> | null {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.length < 8 || sig.some((x, i) => b[i] !== x)) return null;
  const idat: Uint8Array[] = [];
  const out: Array<{ name: string; zlib: Uint8Array }> = [];
  let p = 8;
  while (p + 12 <= b.length) {
    const len = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    const type = String.fromCharCode(...b.subarray(p + 4, p + 8));
    const data = b.subarray(p + 8, Math.min(b.length, p + 8 + len));
    if (type === 'IDAT') idat.push(data);
    else if (type === 'zTXt') {
      const nul = data.indexOf(0);
      if (nul >= 0) out.push({ name: 'zTXt', zlib: data.subarray(nul + 2) });
    } else if (type === 'iTXt') {
      const nul = data.indexOf(0);
      if (nul >= 0 && data[nul + 1] === 1) {
        // keyword \0 flag method language \0 translated keyword \0 text
        let q = data.indexOf(0, nul + 3);
        if (q >= 0) q = data.indexOf(0, q + 1);
        if (q >= 0) out.push({ name: 'iTXt', zlib: data.subarray(q + 1) });
      }
    }
    if (type === 'IEND') break;
    p += 12 + len;
  }
  if (idat.length) {
    const total = idat.reduce((n, d) => n + d.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const d of idat) {
      all.set(d, o);
      o += d.length;
    }
    out.unshift({ name: 'IDAT', zlib: all });
  }
  return out;
}
