/**
 * The bundle manifest (docs/BUNDLE.md): what the bundle holds and claims, signed by its author.
 * Parsing is strict: unknown top-level keys are refused, so a later format cannot be misread.
 */
import { outputNameProblem } from '../receipt/index.ts';
import { hiddenCharacter, visibleText } from '../text/index.ts';
import { BundleError } from './errors.ts';

export const FORMAT = 'airlock-bundle';
/**
 * The newest format this Airlock reads. Format 2 adds `label` and `aggregates` (the disclosure
 * checks, docs/DISCLOSURE.md); a bundle that uses neither is written as format 1, which Airlock
 * 0.2 reads too.
 */
export const FORMAT_VERSION = 2;
/** The format a manifest needs: 2 only when it uses a field format 1 does not have. */
export function formatVersionFor(m: Pick<Manifest, 'label' | 'aggregates'>): number {
  return m.label || m.aggregates?.length ? 2 : 1;
}

export interface FileRef {
  /** Path inside the archive. */
  path: string;
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
  size: number;
}

export interface Manifest {
  format: typeof FORMAT;
  formatVersion: number;
  name: string;
  version: string;
  /** ISO 8601, UTC. */
  created: string;
  /** `recipient`: the expert's own age recipient, to which the owner may encrypt the outputs. */
  author: { fingerprint: string; publicKey: string; recipient?: string };
  notebook: FileRef;
  wheels: FileRef[];
  /** Output file names the notebook will write; empty: any file in the output folder. */
  outputs: string[];
  /** Table names the notebook reads (`airlock.table(name)`); empty: not declared. */
  tables: string[];
  /** Optional: a function that scores a table with an approved model. */
  inference?: { module: string; function: string };
  /**
   * Format 2, optional: the column the model predicts, and for a text column the value that counts
   * as positive (`readmitted=<30`); with `inference`, the owner's membership audit can run.
   */
  label?: { column: string; positive?: string };
  /** Format 2, optional: outputs that are tables of counts or aggregates (the table checks must read them). */
  aggregates?: string[];
}

const bad = (why: string) => new BundleError('bad-manifest', `the bundle's manifest is invalid: ${why}`);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const VERSION = /^[0-9]+(\.[0-9]+){0,3}([a-z0-9.+-]{0,30})?$/;
const HEX = /^[0-9a-f]{64}$/;
/** ISO 8601 in UTC, as sealBundle writes it (Date.parse alone accepts free text in parentheses). */
const CREATED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
/** `ssh-ed25519 <base64>` and an optional comment (checked for hidden characters apart). */
const PUBLIC_KEY = /^ssh-ed25519 [A-Za-z0-9+/]+={0,2}( [^\n]{0,200})?$/;
/** A Python module path and a function name: identifiers as PEP 3131 allows them, letters of any script. */
export const IDENTIFIER = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]{0,99}$/u;

/**
 * Every name in a manifest is shown to the owner — in the app, in a terminal, in the gate's report —
 * and must be what it looks like: no control characters (a terminal obeys them), no bidi controls (they
 * reorder what is read) and no invisible characters (two names that look alike). Letters of any script
 * are fine.
 */
function visible(v: string, what: string): string {
  const c = hiddenCharacter(v);
  if (c) throw bad(`${what} "${visibleText(v.slice(0, 80))}" holds the invisible or control character ${c}`);
  return v;
}

function fileRef(v: unknown, what: string, dir: string, ext: string): FileRef {
  const o = v as Partial<FileRef> | null;
  if (!o || typeof o !== 'object') throw bad(`${what} is missing`);
  if (typeof o.path === 'string') visible(o.path, `${what} path`);
  if (
    typeof o.path !== 'string' ||
    !o.path.startsWith(dir) ||
    !o.path.endsWith(ext) ||
    o.path.slice(dir.length).includes('/') ||
    o.path.length > 200
  ) {
    throw bad(`${what} path must be ${dir}<name>${ext}`);
  }
  if (typeof o.sha256 !== 'string' || !HEX.test(o.sha256)) throw bad(`${what} has no sha256`);
  if (!Number.isSafeInteger(o.size) || (o.size as number) < 0) throw bad(`${what} has no size`);
  return { path: o.path, sha256: o.sha256, size: o.size as number };
}

/**
 * A list of names: `outputs` must be files the owner can save (receipt/export.ts: plain relative
 * paths, no dot-files, no receipt or reserved names), `tables` plain visible names.
 */
function names(v: unknown, what: 'outputs' | 'tables' | 'aggregates'): string[] {
  if (v === undefined) return [];
  if (
    !Array.isArray(v) ||
    v.some((x) => typeof x !== 'string' || !x || x.length > 200 || x.includes('..') || x.startsWith('/'))
  )
    throw bad(`${what} must be a list of plain names`);
  for (const x of v as string[]) {
    visible(x, `${what} entry`);
    const p = what !== 'tables' ? outputNameProblem(x) : undefined;
    if (p) throw bad(`${what} entry "${x}" ${p.why}`);
  }
  return v as string[];
}

const KEYS = new Set([
  'format',
  'formatVersion',
  'name',
  'version',
  'created',
  'author',
  'notebook',
  'wheels',
  'outputs',
  'tables',
  'inference',
]);
/** Fields format 2 adds. */
const KEYS_2 = new Set(['label', 'aggregates']);

/**
 * Parses and checks manifest bytes.
 * @throws {BundleError} `bad-manifest`, or `future-format` for a newer format version.
 */
export function parseManifest(bytes: Uint8Array): Manifest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw bad('not JSON');
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw bad('not an object');
  if (m.format !== FORMAT) throw bad(`format is not "${FORMAT}"`);
  if (typeof m.formatVersion !== 'number' || !Number.isInteger(m.formatVersion)) throw bad('formatVersion is missing');
  if (m.formatVersion > FORMAT_VERSION) {
    throw new BundleError(
      'future-format',
      `the bundle uses format ${m.formatVersion}; this Airlock reads format ${FORMAT_VERSION}: update Airlock`,
    );
  }
  if (m.formatVersion < 1) throw bad('formatVersion must be 1 or 2');
  for (const k of Object.keys(m))
    if (!KEYS.has(k) && !(m.formatVersion >= 2 && KEYS_2.has(k))) throw bad(`unknown field "${k.slice(0, 40)}"`);
  if (typeof m.name !== 'string' || !NAME.test(m.name))
    throw bad('name must be 1-100 letters, digits, ".", "_" or "-"');
  if (typeof m.version !== 'string' || !VERSION.test(m.version)) throw bad('version must look like 1.2.3');
  if (typeof m.created !== 'string' || !CREATED.test(m.created) || Number.isNaN(Date.parse(m.created)))
    throw bad('created is not an ISO 8601 date in UTC');
  const author = m.author as Manifest['author'] | undefined;
  if (!author || typeof author.fingerprint !== 'string' || typeof author.publicKey !== 'string')
    throw bad('author is missing');
  if (!FINGERPRINT.test(author.fingerprint)) throw bad('author.fingerprint is not an SHA256: fingerprint');
  visible(author.publicKey, 'author.publicKey');
  if (!PUBLIC_KEY.test(author.publicKey)) throw bad('author.publicKey is not an ssh-ed25519 public key');
  if (
    author.recipient !== undefined &&
    (typeof author.recipient !== 'string' || !/^age1[02-9ac-hj-np-z]{58}$/.test(author.recipient))
  )
    throw bad('author.recipient is not an age recipient');
  if (!Array.isArray(m.wheels)) throw bad('wheels is not a list');
  const inference = m.inference as Manifest['inference'];
  if (inference !== undefined) {
    if (typeof inference?.module !== 'string' || typeof inference?.function !== 'string')
      throw bad('inference needs module and function');
    visible(inference.module, 'inference.module');
    visible(inference.function, 'inference.function');
    if (!inference.module.split('.').every((part) => IDENTIFIER.test(part)) || !IDENTIFIER.test(inference.function))
      throw bad('inference needs a Python module path (a.b.c) and a function name');
  }
  const label = m.label as Manifest['label'];
  if (label !== undefined) {
    if (
      !label ||
      typeof label !== 'object' ||
      typeof label.column !== 'string' ||
      !label.column ||
      label.column.length > 200
    )
      throw bad('label needs a column name');
    if (
      label.positive !== undefined &&
      (typeof label.positive !== 'string' || !label.positive || label.positive.length > 200)
    )
      throw bad('label.positive must be a value of the label column');
    for (const k of Object.keys(label))
      if (k !== 'column' && k !== 'positive') throw bad(`unknown field "label.${k.slice(0, 40)}"`);
    visible(label.column, 'label.column');
    if (label.positive !== undefined) visible(label.positive, 'label.positive');
  }
  const aggregates = names(m.aggregates, 'aggregates');
  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: m.formatVersion,
    name: m.name,
    version: m.version,
    created: m.created,
    author: {
      fingerprint: author.fingerprint,
      publicKey: author.publicKey,
      ...(author.recipient ? { recipient: author.recipient } : {}),
    },
    notebook: fileRef(m.notebook, 'notebook', 'notebook/', '.ipynb'),
    wheels: m.wheels.map((w, i) => fileRef(w, `wheel ${i + 1}`, 'wheels/', '.whl')),
    outputs: names(m.outputs, 'outputs'),
    tables: names(m.tables, 'tables'),
    ...(inference ? { inference: { module: inference.module, function: inference.function } } : {}),
    ...(label
      ? { label: { column: label.column, ...(label.positive !== undefined ? { positive: label.positive } : {}) } }
      : {}),
    ...(aggregates.length ? { aggregates } : {}),
  };
  if (manifest.outputs.length)
    for (const a of aggregates)
      if (!manifest.outputs.includes(a)) throw bad(`aggregates entry "${a}" is not among the declared outputs`);
  const paths = [manifest.notebook.path, ...manifest.wheels.map((w) => w.path)];
  if (new Set(paths).size !== paths.length) throw bad('a file is listed twice');
  return manifest;
}

/** The manifest's bytes as sealed and signed: stable key order, two-space indent, final newline. */
export function serializeManifest(m: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m, null, 2) + '\n');
}

/**
 * Orders versions numerically part by part (1.10 > 1.9); a suffix (1.0rc1) sorts before the plain
 * release. Returns <0, 0, >0.
 */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const m = /^([0-9.]+)(.*)$/.exec(v) ?? ['', '0', v];
    return { nums: m[1]!.split('.').filter(Boolean).map(Number), suffix: m[2] ?? '' };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d) return d;
  }
  if (x.suffix === y.suffix) return 0;
  if (!x.suffix) return 1;
  if (!y.suffix) return -1;
  return x.suffix < y.suffix ? -1 : 1;
}
