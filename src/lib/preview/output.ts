/**
 * What the owner sees of an output before it leaves: JSON as a tree, CSV/TSV as a table head, text
 * as text, anything else as its size, type and hash. Every preview is capped (bytes read, rows,
 * nodes, characters) and is data for the page to show as text: nothing is rendered as HTML, no
 * image is decoded, no link is followed.
 */
import { jsonTree, type JsonNode } from './json-tree.ts';
import { tableHead, type TableHead } from './table-head.ts';

export type OutputPreview =
  | { kind: 'json'; tree: JsonNode }
  | { kind: 'table'; head: TableHead }
  | { kind: 'text'; text: string; truncated: boolean }
  | { kind: 'binary'; type: string; why: string };

export const PREVIEW_LIMITS = {
  /** JSON is parsed whole only up to this size; larger JSON shows as text. */
  maxJsonBytes: 4 * 1024 * 1024,
  /** Text shown of a text file. */
  maxTextChars: 8 * 1024,
} as const;

/** The file's type as a person names it, from its first bytes, then its extension. */
export function describeType(path: string, bytes: Uint8Array): string {
  const b = bytes;
  const starts = (...sig: number[]) => sig.every((x, i) => b[i] === x);
  if (starts(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59)) return 'NumPy array (.npy)';
  if (starts(0x50, 0x4b, 0x03, 0x04))
    return path.toLowerCase().endsWith('.npz') ? 'NumPy arrays (.npz, zip)' : 'zip archive';
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'PNG image';
  if (starts(0x50, 0x41, 0x52, 0x31)) return 'Parquet table';
  if (starts(0x1f, 0x8b)) return 'gzip data';
  if (b[0] === 0x80 && b[1]! >= 2 && b[1]! <= 5) return 'Python pickle';
  const ext = path.includes('.') ? path.split('.').pop()!.toLowerCase() : '';
  if (ext === 'safetensors') return 'safetensors weights';
  if (ext === 'onnx') return 'ONNX model';
  return ext ? `.${ext} file` : 'binary file';
}

/** Whether the first bytes read as UTF-8 text (no NUL, decodes strictly; a character cut at the end is fine). */
function isText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 64 * 1024);
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: head.byteLength < bytes.byteLength });
    return true;
  } catch {
    return false;
  }
}

function textHead(bytes: Uint8Array, max: number): { text: string; truncated: boolean } {
  // Four bytes per character at most: decode no more than that, then cut at the character cap.
  const text = new TextDecoder('utf-8').decode(bytes.subarray(0, max * 4));
  return text.length > max || bytes.byteLength > max * 4
    ? { text: text.slice(0, max), truncated: true }
    : { text, truncated: false };
}

/** The preview of one output file. */
export function previewOutput(path: string, bytes: Uint8Array): OutputPreview {
  const ext = path.includes('.') ? path.split('.').pop()!.toLowerCase() : '';
  if (!isText(bytes)) return { kind: 'binary', type: describeType(path, bytes), why: 'not text' };
  if (ext === 'json' && bytes.byteLength <= PREVIEW_LIMITS.maxJsonBytes) {
    try {
      return { kind: 'json', tree: jsonTree(JSON.parse(new TextDecoder().decode(bytes))) };
    } catch {
      // Not valid JSON: shown as the text it is.
    }
  }
  if (ext === 'csv' || ext === 'tsv') return { kind: 'table', head: tableHead(bytes, ext === 'tsv' ? '\t' : ',') };
  return { kind: 'text', ...textHead(bytes, PREVIEW_LIMITS.maxTextChars) };
}

/** One number the run reports about its model, for a card. */
export interface MetricCard {
  name: string;
  value: number;
  /** The output it came from. */
  file: string;
}

/**
 * The run's declared metrics: the numbers at the top of a JSON output whose name says metrics
 * (`metrics.json`, `eval_metrics.json`), and those under a `"metrics"` key of any JSON output (a
 * model file that carries its own evaluation). At most `max`, in file order.
 */
export function metricCards(outputs: Array<{ path: string; bytes: Uint8Array }>, max = 12): MetricCard[] {
  const cards: MetricCard[] = [];
  for (const o of outputs) {
    if (!o.path.toLowerCase().endsWith('.json') || o.bytes.byteLength > PREVIEW_LIMITS.maxJsonBytes) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(o.bytes));
    } catch {
      continue;
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) continue;
    const base = o.path.split('/').pop()!.toLowerCase();
    const nested = (doc as Record<string, unknown>).metrics;
    const sources = [
      ...(/metrics?\.json$/.test(base) ? [doc as Record<string, unknown>] : []),
      ...(typeof nested === 'object' && nested !== null && !Array.isArray(nested)
        ? [nested as Record<string, unknown>]
        : []),
    ];
    for (const src of sources) {
      for (const [name, value] of Object.entries(src)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        if (cards.length >= max) return cards;
        cards.push({ name: name.slice(0, 40), value, file: o.path });
      }
    }
  }
  return cards;
}

/** The SHA-256 of bytes as hex (WebCrypto, in the page and in Node). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((x) => x.toString(16).padStart(2, '0')).join('');
}
