/**
 * The one RPC contract between the host (the app) and the sandbox worker, and the checks the host
 * applies to everything that comes back.
 *
 * Direction matters. The host calls the worker through comlink `wrap`; the worker `expose`s
 * {@link SandboxWorkerApi}. The host never `expose`s anything to the sandbox: comlink's expose side
 * walks any property path the peer names and assigns to it (`SET`), which a hostile peer could use
 * for prototype pollution. Events (logs, progress, tripwires) travel the same port as plain
 * messages that comlink ignores (they carry no `id`), and are validated by {@link parseSandboxEvent}.
 */
import type { UnpackedWheel } from '../wheel/index.ts';

/** Column types shared with the data layer (`src/lib/data`). */
export type ColumnType = 'int' | 'float' | 'bool' | 'datetime' | 'string';

/**
 * One column on the wire. `int`: Int32Array when every value fits, else Float64Array; `float`:
 * Float64Array; `bool`: Uint8Array of 0/1; `datetime`: Float64Array of ms since the Unix epoch (UTC);
 * `string`: Int32Array of codes into `dictionary`. `valid` (1 = present) is omitted when nothing is
 * missing.
 */
export interface SandboxColumn {
  name: string;
  type: ColumnType;
  values: Int32Array | Float64Array | Uint8Array;
  dictionary?: string[];
  valid?: Uint8Array;
}

/** A whole table as the sandbox receives it: contiguous arrays per column, buffers transferred. */
export interface SandboxTable {
  name: string;
  rowCount: number;
  columns: SandboxColumn[];
  /** Rows of the owner's table held back from this run for the membership audit (only their number reaches Python). */
  heldOut?: number;
}

/** The Pyodide runtime files, as bytes; the sandbox never fetches. */
export interface PyodideAssets {
  pyodideMjs: ArrayBuffer;
  pyodideAsmMjs: ArrayBuffer;
  pyodideAsmWasm: ArrayBuffer;
  pythonStdlibZip: ArrayBuffer;
  pyodideLockJson: ArrayBuffer;
  /**
   * A Pyodide memory snapshot taken right after start-up in a sandbox where nothing else ran
   * (see {@link SandboxWorkerApi.snapshot}); skips interpreter initialisation on later boots.
   */
  snapshot?: ArrayBuffer;
}

export interface WheelFile {
  /** The wheel's file name (PEP 427: `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`). */
  filename: string;
  bytes: ArrayBuffer | Uint8Array;
}

export interface BootOptions {
  /**
   * Install the in-worker tripwires (layer 3). Always true in the app; tests turn it off to prove that
   * the outer walls (opaque origin + CSP) hold on their own.
   */
  tripwires: boolean;
}

export interface CellResult {
  ok: boolean;
  /** Python's traceback, last line first line of meaning, when `ok` is false. */
  error?: string;
  /** Wall time of the cell inside the sandbox, ms. */
  ms: number;
}

export interface OutputFile {
  /** Path relative to the output folder, `/`-separated, no `..`. */
  path: string;
  bytes: Uint8Array;
}

export interface InstalledWheel {
  filename: string;
  name: string;
  version: string;
  files: number;
}

/** What the worker exposes. Every method is called by the host; results are validated before use. */
export interface SandboxWorkerApi {
  boot(
    assets: PyodideAssets,
    options: BootOptions,
  ): Promise<{ pythonVersion: string; pyodideVersion: string; ms: number }>;
  /** Starts Python in snapshot mode and returns its memory image; the sandbox is then discarded. */
  snapshot(assets: PyodideAssets): Promise<ArrayBuffer>;
  /** Writes wheels the host has checked and unpacked (see wheel/unpack.ts) into site-packages. */
  installWheels(wheels: UnpackedWheel[]): Promise<InstalledWheel[]>;
  mountTables(tables: SandboxTable[]): Promise<void>;
  /** Places read-only input files (an approved model, a request) under /airlock/input/. */
  writeInputs(files: OutputFile[]): Promise<void>;
  runCell(index: number, code: string): Promise<CellResult>;
  collectOutputs(limits: { maxFiles: number; maxBytes: number }): Promise<OutputFile[]>;
}

export type SandboxEvent =
  | { type: 'log'; cell: number; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'progress'; fraction: number; message: string; metrics?: Record<string, number> }
  | { type: 'tripwire'; name: string; detail: string }
  | { type: 'stage'; stage: string };

/** Caps on what the sandbox may send back. Anything larger is refused, not truncated in place. */
export const LIMITS = {
  /** One log or progress text. Longer texts are cut and marked. */
  maxTextChars: 16_384,
  /** All log text of one run; past this the host keeps counting but stores nothing more. */
  maxLogChars: 8 * 1024 * 1024,
  /** Events per run (logs, progress, tripwires); a flood past this ends the run. */
  maxEvents: 200_000,
  maxNameChars: 256,
  maxPathChars: 512,
  /** Metrics on one progress report (`airlock.progress(..., metrics={...})`), and a metric name's length. */
  maxMetrics: 8,
  maxMetricNameChars: 40,
} as const;

const EVENT_TAG = 'airlock:event';

/** Wraps an event for the port; used inside the worker. */
export function encodeEvent(event: SandboxEvent): { [EVENT_TAG]: SandboxEvent } {
  return { [EVENT_TAG]: event };
}

/** A message the host refused, with the reason; shown to the owner as a tripwire. */
export class ProtocolViolation extends Error {
  override name = 'ProtocolViolation';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function text(v: unknown, max: number, what: string): string {
  if (typeof v !== 'string') throw new ProtocolViolation(`${what} is not a string`);
  return v.length > max ? v.slice(0, max) + `… [cut: ${v.length - max} more characters]` : v;
}

/**
 * Reads one message from the sandbox port as an event. Returns `null` for messages that are not
 * events (comlink replies); throws {@link ProtocolViolation} for anything that claims to be an event
 * but does not match the schema.
 */
export function parseSandboxEvent(data: unknown): SandboxEvent | null {
  if (!isPlainObject(data) || !(EVENT_TAG in data)) return null;
  const e = data[EVENT_TAG];
  if (!isPlainObject(e)) throw new ProtocolViolation('event is not an object');
  switch (e.type) {
    case 'log': {
      if (e.stream !== 'stdout' && e.stream !== 'stderr')
        throw new ProtocolViolation('log stream is neither stdout nor stderr');
      if (!Number.isSafeInteger(e.cell) || (e.cell as number) < -1)
        throw new ProtocolViolation('log cell is not an index');
      return {
        type: 'log',
        cell: e.cell as number,
        stream: e.stream,
        text: text(e.text, LIMITS.maxTextChars, 'log text'),
      };
    }
    case 'progress': {
      const f = e.fraction;
      if (typeof f !== 'number' || !Number.isFinite(f))
        throw new ProtocolViolation('progress fraction is not a number');
      const out: SandboxEvent = {
        type: 'progress',
        fraction: Math.min(1, Math.max(0, f)),
        message: text(e.message, LIMITS.maxNameChars, 'progress message'),
      };
      if (e.metrics !== undefined) out.metrics = parseMetrics(e.metrics);
      return out;
    }
    case 'tripwire':
      return {
        type: 'tripwire',
        name: text(e.name, LIMITS.maxNameChars, 'tripwire name'),
        detail: text(e.detail, LIMITS.maxTextChars, 'tripwire detail'),
      };
    case 'stage':
      return { type: 'stage', stage: text(e.stage, LIMITS.maxNameChars, 'stage') };
    default:
      throw new ProtocolViolation('unknown event type');
  }
}

/**
 * A progress report's metrics: a few named finite numbers (a loss, an AUC), which the owner's page
 * draws as a training curve. Names are short text; anything else is a protocol violation.
 */
function parseMetrics(v: unknown): Record<string, number> {
  if (!isPlainObject(v)) throw new ProtocolViolation('progress metrics are not an object');
  const entries = Object.entries(v);
  if (entries.length > LIMITS.maxMetrics)
    throw new ProtocolViolation(`more than ${LIMITS.maxMetrics} progress metrics`);
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [name, x] of entries) {
    if (!name || name.length > LIMITS.maxMetricNameChars)
      throw new ProtocolViolation('progress metric name is empty or too long');
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new ProtocolViolation('progress metric is not a finite number');
    out[name] = x;
  }
  return { ...out };
}

/** Checks a `boot` reply. */
export function parseBootResult(v: unknown): { pythonVersion: string; pyodideVersion: string; ms: number } {
  if (!isPlainObject(v)) throw new ProtocolViolation('boot reply is not an object');
  if (typeof v.ms !== 'number' || !Number.isFinite(v.ms)) throw new ProtocolViolation('boot reply has no time');
  return {
    pythonVersion: text(v.pythonVersion, 64, 'python version'),
    pyodideVersion: text(v.pyodideVersion, 64, 'pyodide version'),
    ms: v.ms,
  };
}

/** Checks an `installWheels` reply. */
export function parseInstalled(v: unknown, count: number): InstalledWheel[] {
  if (!Array.isArray(v) || v.length !== count) throw new ProtocolViolation('install reply does not list every wheel');
  return v.map((w) => {
    if (!isPlainObject(w) || !Number.isSafeInteger(w.files))
      throw new ProtocolViolation('install reply entry is malformed');
    return {
      filename: text(w.filename, LIMITS.maxNameChars, 'wheel file name'),
      name: text(w.name, LIMITS.maxNameChars, 'wheel name'),
      version: text(w.version, 64, 'wheel version'),
      files: w.files as number,
    };
  });
}

/** Checks a `runCell` reply. */
export function parseCellResult(v: unknown): CellResult {
  if (!isPlainObject(v) || typeof v.ok !== 'boolean') throw new ProtocolViolation('cell reply is malformed');
  const ms = typeof v.ms === 'number' && Number.isFinite(v.ms) ? v.ms : 0;
  if (v.ok) return { ok: true, ms };
  return { ok: false, ms, error: text(v.error ?? 'the cell failed', LIMITS.maxTextChars, 'cell error') };
}

/**
 * A relative output path is safe to show and to use as a download name: no empty, `.` or `..`
 * segments, no backslashes, no control characters.
 */
export function isSafeOutputPath(p: string): boolean {
  if (p.length === 0 || p.length > LIMITS.maxPathChars || p.startsWith('/')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(p)) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** Checks a `collectOutputs` reply against the caps the host asked for. */
export function parseOutputs(v: unknown, limits: { maxFiles: number; maxBytes: number }): OutputFile[] {
  if (!Array.isArray(v)) throw new ProtocolViolation('outputs reply is not a list');
  if (v.length > limits.maxFiles)
    throw new ProtocolViolation(`outputs reply lists ${v.length} files, over the cap of ${limits.maxFiles}`);
  let total = 0;
  const seen = new Set<string>();
  return v.map((f) => {
    if (!isPlainObject(f) || typeof f.path !== 'string' || !(f.bytes instanceof Uint8Array))
      throw new ProtocolViolation('output entry is malformed');
    if (!isSafeOutputPath(f.path)) throw new ProtocolViolation('output path is not a plain relative path');
    if (seen.has(f.path)) throw new ProtocolViolation('output path is listed twice');
    seen.add(f.path);
    total += f.bytes.byteLength;
    if (total > limits.maxBytes) throw new ProtocolViolation(`outputs exceed the cap of ${limits.maxBytes} bytes`);
    return { path: f.path, bytes: f.bytes };
  });
}
