/**
 * The host side of the sandbox: one fresh opaque-origin frame and worker per run, a typed comlink
 * proxy to the worker, and a guard around every call (time limit, crash, cancellation, a sandbox
 * that misbehaves). Disposal removes the frame, which ends its worker at once: a runaway loop needs
 * no cooperation to stop (Pyodide's interrupt buffer would need SharedArrayBuffer, i.e.
 * cross-origin-isolation headers a static host cannot send).
 */
import { transfer, wrap, type Remote } from 'comlink';
import frameSource from './frame.ts?iife';
import workerSource from './worker.ts?iife';
import type { UnpackedWheel } from '../wheel/index.ts';
import { FRAME_ALLOW, FRAME_SANDBOX, frameDocument } from './policy.ts';
import {
  LIMITS,
  ProtocolViolation,
  parseBootResult,
  parseCellResult,
  parseInstalled,
  parseOutputs,
  parseSandboxEvent,
  type CellResult,
  type InstalledWheel,
  type OutputFile,
  type PyodideAssets,
  type SandboxEvent,
  type SandboxTable,
  type SandboxWorkerApi,
} from './protocol.ts';

export type SandboxErrorCode = 'boot-failed' | 'timeout' | 'crashed' | 'protocol' | 'cancelled' | 'disposed';

/** Why a sandbox call did not complete. `message` is one sentence for the owner. */
export class SandboxError extends Error {
  override name = 'SandboxError';
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Tripwire {
  name: string;
  detail: string;
  /** ms since the sandbox started */
  at: number;
}

export interface SandboxOptions {
  /**
   * The Pyodide runtime files; copied before transfer, so the caller's buffers stay usable. A
   * promise lets the frame and worker start while the files are still loading.
   */
  assets: PyodideAssets | Promise<PyodideAssets>;
  /** Logs, progress and stages, already validated. Tripwires are also collected in `tripwires`. */
  onEvent?: (event: SandboxEvent) => void;
  /** Layer 3 on or off. Only tests turn it off, to show the walls hold without it. Default true. */
  tripwires?: boolean;
  /** Give up on start-up after this long (a missing 'wasm-unsafe-eval' makes Pyodide hang). */
  bootTimeoutMs?: number;
  /** Where the frame is attached. Default `document.body`. */
  container?: HTMLElement;
  /** Test seam: replace the worker's source (used to prove the host's own message checks). */
  workerSource?: string;
  signal?: AbortSignal;
}

function copyAssets(a: PyodideAssets): PyodideAssets {
  return {
    pyodideMjs: a.pyodideMjs.slice(0),
    pyodideAsmMjs: a.pyodideAsmMjs.slice(0),
    pyodideAsmWasm: a.pyodideAsmWasm.slice(0),
    pythonStdlibZip: a.pythonStdlibZip.slice(0),
    pyodideLockJson: a.pyodideLockJson.slice(0),
    ...(a.snapshot ? { snapshot: a.snapshot.slice(0) } : {}),
  };
}

function assetBuffers(a: PyodideAssets): ArrayBuffer[] {
  return [
    a.pyodideMjs,
    a.pyodideAsmMjs,
    a.pyodideAsmWasm,
    a.pythonStdlibZip,
    a.pyodideLockJson,
    ...(a.snapshot ? [a.snapshot] : []),
  ];
}

/** Largest memory image accepted back from a snapshot sandbox. */
const MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024;

/** A remote error (comlink rethrows what the worker threw) as plain text, without trusting it. */
function remoteMessage(err: unknown): string {
  try {
    if (err instanceof SandboxError) return err.message;
    const o = err && typeof err === 'object' ? (err as { message?: unknown; name?: unknown }) : { message: err };
    const m = typeof o.message === 'string' && o.message ? o.message : typeof o.name === 'string' ? o.name : undefined;
    return m ? m.slice(0, LIMITS.maxTextChars) : 'the sandbox reported an error it could not describe';
  } catch {
    return 'the sandbox reported an error it could not describe';
  }
}

export class Sandbox {
  readonly tripwires: Tripwire[] = [];
  readonly startedAt = performance.now();
  private readonly frame: HTMLIFrameElement;
  private readonly port: MessagePort;
  private readonly remote: Remote<SandboxWorkerApi>;
  private readonly onEvent: (e: SandboxEvent) => void;
  private deathReason: SandboxError | undefined;
  private die!: (e: SandboxError) => void;
  private readonly dead: Promise<never>;
  private events = 0;
  private logChars = 0;
  private disposed = false;

  private constructor(options: SandboxOptions) {
    this.onEvent = options.onEvent ?? (() => {});
    this.dead = new Promise<never>((_, reject) => {
      this.die = (e) => {
        this.deathReason ??= e;
        reject(this.deathReason);
        this.dispose();
      };
    });
    this.dead.catch(() => {}); // observed through call(); never an unhandled rejection
    const channel = new MessageChannel();
    const control = new MessageChannel();
    this.port = channel.port1;
    this.port.addEventListener('message', (ev) => this.receive(ev.data));
    control.port1.onmessage = (ev: MessageEvent) => {
      const d = ev.data as { type?: unknown; message?: unknown } | null;
      if (d?.type === 'worker-error')
        this.die(new SandboxError('crashed', `The sandbox stopped with an error: ${remoteMessage(d)}`));
    };
    this.remote = wrap<SandboxWorkerApi>(this.port);

    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', FRAME_SANDBOX);
    frame.setAttribute('allow', FRAME_ALLOW);
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.setAttribute('aria-hidden', 'true');
    frame.tabIndex = -1;
    frame.title = 'Airlock sandbox';
    frame.style.cssText = 'position:absolute;width:0;height:0;border:0;visibility:hidden';
    frame.srcdoc = frameDocument(frameSource);
    frame.addEventListener(
      'load',
      () => {
        // The frame's origin is opaque, so '*' is the only target origin that reaches it; what is
        // sent is the worker's code and two fresh ports, nothing secret.
        frame.contentWindow?.postMessage(
          {
            type: 'airlock:init',
            workerSource: options.workerSource ?? workerSource,
            port: channel.port2,
            control: control.port2,
          },
          '*',
          [channel.port2, control.port2],
        );
      },
      { once: true },
    );
    this.frame = frame;
    (options.container ?? document.body).appendChild(frame);
    options.signal?.addEventListener('abort', () => this.die(new SandboxError('cancelled', 'The run was cancelled.')), {
      once: true,
    });
  }

  /**
   * Starts a sandbox and boots Python in it.
   * @throws {SandboxError} `boot-failed` if Python does not come up in time, or the caller's signal aborts.
   */
  static async start(
    options: SandboxOptions,
  ): Promise<{ sandbox: Sandbox; pythonVersion: string; pyodideVersion: string; bootMs: number }> {
    const sb = new Sandbox(options);
    try {
      const r = await sb.call(
        async (remote) => {
          const assets = copyAssets(await options.assets);
          return remote.boot(transfer(assets, assetBuffers(assets)), { tripwires: options.tripwires ?? true });
        },
        parseBootResult,
        options.bootTimeoutMs ?? 60_000,
        'Python did not start in the sandbox in time; reload the page and try again.',
      );
      return { sandbox: sb, pythonVersion: r.pythonVersion, pyodideVersion: r.pyodideVersion, bootMs: r.ms };
    } catch (e) {
      sb.dispose();
      if (e instanceof SandboxError && e.code !== 'timeout') throw e;
      throw new SandboxError(
        'boot-failed',
        e instanceof SandboxError ? e.message : `Python could not start in the sandbox: ${remoteMessage(e)}`,
      );
    }
  }

  /**
   * Makes a Pyodide memory snapshot in a sandbox of its own, in which nothing but start-up runs, so
   * the image holds no one's code or data. Later sandboxes boot from it (`assets.snapshot`), skipping
   * interpreter initialisation; they are no less isolated, since the image only ever runs inside one.
   * @throws {SandboxError} if start-up fails or the reply is not a plausible image.
   */
  static async makeSnapshot(
    options: Pick<SandboxOptions, 'assets' | 'bootTimeoutMs' | 'container'>,
  ): Promise<ArrayBuffer> {
    const sb = new Sandbox({ assets: options.assets, container: options.container });
    try {
      return await sb.call(
        async (remote) => {
          const assets = copyAssets({ ...(await options.assets), snapshot: undefined });
          delete assets.snapshot;
          return remote.snapshot(transfer(assets, assetBuffers(assets)));
        },
        (v) => {
          if (!(v instanceof ArrayBuffer) || v.byteLength === 0 || v.byteLength > MAX_SNAPSHOT_BYTES)
            throw new ProtocolViolation('snapshot reply is not a memory image');
          return v;
        },
        options.bootTimeoutMs ?? 60_000,
        'Python did not start in the sandbox in time to make a snapshot.',
      );
    } finally {
      sb.dispose();
    }
  }

  /**
   * Installs pure-Python wheels checked in the host by `unpackWheel` (wheel/unpack.ts): the sandbox
   * only writes the files it is given into site-packages. Their buffers are transferred.
   */
  installWheels(unpacked: UnpackedWheel[], timeoutMs = 60_000): Promise<InstalledWheel[]> {
    return this.call(
      (r) =>
        r.installWheels(
          transfer(
            unpacked,
            unpacked.map((w) => w.data),
          ),
        ),
      (v) => parseInstalled(v, unpacked.length),
      timeoutMs,
      'Installing the wheels took too long.',
    );
  }

  /** Hands tables to Python. Their buffers are transferred: the caller's arrays are emptied. */
  mountTables(tables: SandboxTable[], timeoutMs = 60_000): Promise<void> {
    const buffers = new Set<ArrayBuffer>();
    for (const t of tables)
      for (const c of t.columns) for (const a of [c.values, c.valid]) if (a) buffers.add(a.buffer as ArrayBuffer);
    return this.call(
      (r) => r.mountTables(transfer(tables, [...buffers])),
      () => undefined,
      timeoutMs,
      'Loading the tables into Python took too long.',
    );
  }

  /** Places read-only inputs (an approved model, a request) under /airlock/input/. */
  writeInputs(files: OutputFile[], timeoutMs = 60_000): Promise<void> {
    const copies = files.map((f) => ({ path: f.path, bytes: f.bytes.slice() }));
    return this.call(
      (r) =>
        r.writeInputs(
          transfer(
            copies,
            copies.map((c) => c.bytes.buffer as ArrayBuffer),
          ),
        ),
      () => undefined,
      timeoutMs,
      'Placing the input files took too long.',
    );
  }

  /** Runs one notebook cell; a cell that outlives `timeoutMs` ends the sandbox. */
  runCell(index: number, code: string, timeoutMs: number): Promise<CellResult> {
    return this.call(
      (r) => r.runCell(index, code),
      parseCellResult,
      timeoutMs,
      `Cell ${index + 1} did not finish within the time limit and was stopped.`,
    );
  }

  /** The files under the output folder, checked against the caps. */
  collectOutputs(limits: { maxFiles: number; maxBytes: number }, timeoutMs = 60_000): Promise<OutputFile[]> {
    return this.call(
      (r) => r.collectOutputs(limits),
      (v) => parseOutputs(v, limits),
      timeoutMs,
      'Collecting the outputs took too long.',
    );
  }

  /** Removes the frame (and with it the worker). Safe to call more than once. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.deathReason ??= new SandboxError('disposed', 'The sandbox was closed.');
    this.die(this.deathReason);
    this.port.close();
    this.frame.remove();
  }

  get isAlive(): boolean {
    return !this.disposed;
  }

  private async call<T>(
    fn: (r: Remote<SandboxWorkerApi>) => Promise<unknown>,
    parse: (v: unknown) => T,
    timeoutMs: number,
    timeoutMessage: string,
  ): Promise<T> {
    if (this.disposed) throw this.deathReason ?? new SandboxError('disposed', 'The sandbox was closed.');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new SandboxError('timeout', timeoutMessage);
        this.die(e);
        reject(e);
      }, timeoutMs);
    });
    try {
      let raw: unknown;
      try {
        raw = await Promise.race([fn(this.remote), timeout, this.dead]);
      } catch (e) {
        if (e instanceof SandboxError) throw e;
        throw new SandboxError('crashed', remoteMessage(e));
      }
      try {
        return parse(raw);
      } catch (e) {
        const v = e instanceof ProtocolViolation ? e.message : 'malformed reply';
        this.recordTripwire('protocol', v);
        const err = new SandboxError('protocol', `The sandbox sent a malformed reply (${v}); the run was stopped.`);
        this.die(err);
        throw err;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private recordTripwire(name: string, detail: string): void {
    if (this.tripwires.length < 1000) this.tripwires.push({ name, detail, at: performance.now() - this.startedAt });
  }

  private receive(data: unknown): void {
    if (this.disposed) return;
    let event: SandboxEvent | null;
    try {
      event = parseSandboxEvent(data);
    } catch (e) {
      this.recordTripwire('protocol', e instanceof ProtocolViolation ? e.message : 'unreadable message');
      return;
    }
    if (!event) return;
    if (++this.events > LIMITS.maxEvents) {
      this.recordTripwire('protocol', `more than ${LIMITS.maxEvents} events`);
      this.die(new SandboxError('protocol', 'The sandbox sent too many messages; the run was stopped.'));
      return;
    }
    if (event.type === 'tripwire') this.recordTripwire(event.name, event.detail);
    if (event.type === 'log') {
      this.logChars += event.text.length;
      if (this.logChars > LIMITS.maxLogChars) {
        if (this.logChars - event.text.length <= LIMITS.maxLogChars) {
          this.onEvent({
            type: 'log',
            cell: event.cell,
            stream: 'stderr',
            text: `[airlock: log limit of ${LIMITS.maxLogChars} characters reached; further output is not shown]`,
          });
        }
        return;
      }
    }
    this.onEvent(event);
  }
}
