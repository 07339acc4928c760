/**
 * One notebook run, start to finish: a fresh sandbox, the wheels, the tables, each cell in turn,
 * the output folder, teardown. Whatever happens, the caller gets a {@link RunReport} with a
 * one-sentence outcome; the sandbox is always disposed.
 */
import { Sandbox, SandboxError, type Tripwire } from './host.ts';
import { NotebookError, parseNotebook } from './notebook.ts';
import { unpackWheel, WheelError, type UnpackedWheel } from '../wheel/index.ts';
import type { InstalledWheel, OutputFile, PyodideAssets, SandboxEvent, SandboxTable, WheelFile } from './protocol.ts';

export interface RunLimits {
  /** The whole run: Python's start and the opening of the bundle that overlaps it included. */
  timeLimitMs: number;
  maxOutputBytes: number;
  maxOutputFiles: number;
}

export const DEFAULT_LIMITS: RunLimits = {
  timeLimitMs: 10 * 60_000,
  maxOutputBytes: 50 * 1024 * 1024,
  maxOutputFiles: 100,
};

/**
 * What the host itself says about a run's course, beside the sandbox's own events: which cell runs,
 * how it ended and how long it took, and (from lib/runs) when the outputs are reviewed. Only the host
 * sends these — parseSandboxEvent accepts none of them from the sandbox — so a notebook cannot fake
 * a cell's status on the owner's screen.
 */
export type RunStep =
  { type: 'cell'; index: number; count: number; state: 'running' | 'ok' | 'failed'; ms?: number } | { type: 'review' };

/** Everything a run's watcher hears: the sandbox's events (checked) and the host's own steps. */
export type RunEvent = SandboxEvent | RunStep;

export interface RunRequest {
  /**
   * The notebook, wheels and tables, or promises of them: Python starts while the caller is still
   * opening the bundle and reading the tables, and the wheels are checked (wheel/unpack.ts) while
   * Python starts. A rejected promise ends the run as `invalid` before anything reaches Python.
   */
  notebook: string | Uint8Array | Promise<string | Uint8Array>;
  wheels: Array<WheelFile | UnpackedWheel> | Promise<Array<WheelFile | UnpackedWheel>>;
  tables: SandboxTable[] | Promise<SandboxTable[]>;
  /**
   * Read-only files placed under /airlock/input/ before the first cell (e.g. an approved model), or
   * a promise of them: the sandbox starts, installs the wheels and mounts the tables meanwhile (the
   * membership audit starts while the notebook that makes its model still runs). A rejected
   * promise ends the run as `cancelled` before the first cell.
   */
  inputs?: OutputFile[] | Promise<OutputFile[]>;
  limits?: Partial<RunLimits>;
  assets: PyodideAssets | Promise<PyodideAssets>;
  /** Only tests turn tripwires off. */
  tripwires?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Test seam, see {@link SandboxOptions.workerSource}. */
  workerSource?: string;
}

export type RunStatus = 'ok' | 'failed' | 'timeout' | 'crashed' | 'cancelled' | 'invalid';

export interface CellReport {
  index: number;
  ok: boolean;
  error?: string;
  ms: number;
}

export interface LogLine {
  cell: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface RunReport {
  status: RunStatus;
  /** One sentence for the owner. */
  message: string;
  cells: CellReport[];
  outputs: OutputFile[];
  tripwires: Tripwire[];
  logs: LogLine[];
  wheels: InstalledWheel[];
  pythonVersion?: string;
  pyodideVersion?: string;
  bootMs?: number;
  totalMs: number;
}

/** Runs a notebook in a fresh sandbox. Never throws for anything the notebook or sandbox does. */
export async function runNotebook(req: RunRequest): Promise<RunReport> {
  const limits = { ...DEFAULT_LIMITS, ...req.limits };
  const t0 = performance.now();
  const deadline = t0 + limits.timeLimitMs;
  const left = () => Math.max(1, deadline - performance.now());
  const report: RunReport = {
    status: 'ok',
    message: '',
    cells: [],
    outputs: [],
    tripwires: [],
    logs: [],
    wheels: [],
    totalMs: 0,
  };
  const onEvent = (e: SandboxEvent) => {
    if (e.type === 'log') report.logs.push({ cell: e.cell, stream: e.stream, text: e.text });
    req.onEvent?.(e);
  };

  const invalid = (message: string): RunReport => ({
    ...report,
    status: 'invalid',
    message,
    totalMs: performance.now() - t0,
  });
  const parse = (nb: string | Uint8Array) => {
    try {
      return parseNotebook(nb);
    } catch (e) {
      throw new NotebookError(`The notebook cannot run: ${(e as Error).message}.`);
    }
  };
  let cells: ReturnType<typeof parseNotebook> | undefined;
  if (!(req.notebook instanceof Promise)) {
    try {
      cells = parse(req.notebook);
    } catch (e) {
      return invalid((e as Error).message);
    }
  }
  // Checked in the host while Python starts; a refusal ends the run before anything is installed.
  // (Wheels already checked by unpackWheel, e.g. while the bundle's hashes were computed, are taken as they are.)
  const unpacked = Promise.resolve(req.wheels).then((ws) =>
    Promise.all(
      ws.map((w) =>
        'files' in w ? w : unpackWheel(w.filename, w.bytes instanceof Uint8Array ? w.bytes : new Uint8Array(w.bytes)),
      ),
    ),
  );
  const notebook = Promise.resolve(req.notebook);
  const tables = Promise.resolve(req.tables);
  const inputs = Promise.resolve(req.inputs ?? []);
  inputs.catch(() => {});
  unpacked.catch(() => {});
  notebook.catch(() => {});
  tables.catch(() => {});

  let sandbox: Sandbox | undefined;
  try {
    const boot = await Sandbox.start({
      assets: req.assets,
      onEvent,
      tripwires: req.tripwires ?? true,
      bootTimeoutMs: Math.min(left(), 120_000),
      signal: req.signal,
      workerSource: req.workerSource,
    });
    sandbox = boot.sandbox;
    Object.assign(report, {
      pythonVersion: boot.pythonVersion,
      pyodideVersion: boot.pyodideVersion,
      bootMs: boot.bootMs,
    });
    // Every input is ready and checked before the first thing is installed.
    let wheels: UnpackedWheel[];
    let mounted: SandboxTable[];
    try {
      cells ??= parse(await notebook);
      wheels = await unpacked;
    } catch (e) {
      return invalid(
        e instanceof WheelError
          ? `A wheel was refused before anything ran: ${e.message}.`
          : e instanceof NotebookError
            ? e.message
            : `The bundle could not be opened: ${(e as Error).message}`,
      );
    }
    try {
      mounted = await tables;
    } catch (e) {
      return invalid(`The tables could not be read: ${(e as Error).message}`);
    }
    if (wheels.length) report.wheels = await sandbox.installWheels(wheels, left());
    await sandbox.mountTables(mounted, left());
    let files: OutputFile[];
    // A cancel stops the wait too: the caller's promise may never settle once its run is abandoned.
    const signal = req.signal;
    let stopWaiting = () => {};
    try {
      files = await (signal
        ? Promise.race([
            inputs,
            new Promise<never>((_, reject) => {
              stopWaiting = () => reject(new Error('the run was cancelled'));
              if (signal.aborted) stopWaiting();
              else signal.addEventListener('abort', stopWaiting, { once: true });
            }),
          ])
        : inputs);
    } catch (e) {
      report.status = 'cancelled';
      report.message = `The run was stopped before its first cell: ${(e as Error).message}`;
      return report;
    } finally {
      signal?.removeEventListener('abort', stopWaiting);
    }
    if (files.length) await sandbox.writeInputs(files, left());
    for (const cell of cells) {
      req.onEvent?.({ type: 'cell', index: cell.index, count: cells.length, state: 'running' });
      const r = await sandbox.runCell(cell.index, cell.source, left());
      report.cells.push({ index: cell.index, ...r });
      req.onEvent?.({ type: 'cell', index: cell.index, count: cells.length, state: r.ok ? 'ok' : 'failed', ms: r.ms });
      if (!r.ok) {
        const last = (r.error ?? '').trim().split('\n').pop() ?? 'error';
        report.status = 'failed';
        report.message = `Cell ${cell.index + 1} failed: ${last}`;
        break;
      }
    }
    if (report.status === 'ok') {
      report.outputs = await sandbox.collectOutputs(
        { maxFiles: limits.maxOutputFiles, maxBytes: limits.maxOutputBytes },
        left(),
      );
      const n = report.outputs.length;
      report.message = n
        ? `The notebook ran to the end and wrote ${n} output file${n === 1 ? '' : 's'}.`
        : 'The notebook ran to the end but wrote no output files.';
    }
  } catch (e) {
    const err = e instanceof SandboxError ? e : new SandboxError('crashed', String((e as Error)?.message ?? e));
    const status: Record<SandboxError['code'], RunStatus> = {
      'boot-failed': 'crashed',
      timeout: 'timeout',
      crashed: 'crashed',
      protocol: 'crashed',
      cancelled: 'cancelled',
      disposed: 'cancelled',
    };
    report.status = status[err.code];
    report.message = err.message;
    // The run's own deadline ran out while Python was still starting: that is the time limit, not a crash.
    if (err.code === 'boot-failed' && performance.now() >= deadline - 50) {
      report.status = 'timeout';
      report.message = `The run did not finish within the time limit (${Math.round(limits.timeLimitMs / 1000)} s): Python was still starting.`;
    }
  } finally {
    if (sandbox) {
      report.tripwires = [...sandbox.tripwires];
      sandbox.dispose();
    }
    report.totalMs = performance.now() - t0;
  }
  return report;
}
