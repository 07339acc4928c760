/**
 * `window.airlock`: the automation surface of the built app. The headless runner (`airlock run`)
 * and the browser tests drive the real app through it — the same code path as the UI, no other.
 */
import {
  Sandbox,
  DEFAULT_LIMITS,
  loadPyodideAssets,
  runNotebook,
  runtimeAssets,
  ensureSnapshot,
  clearSnapshot,
  type SandboxOptions,
  type RunReport,
  type SandboxTable,
  type WheelFile,
  type SandboxEvent,
  type RunLimits,
} from '../lib/sandbox/index.ts';
import { deleteRoomKey, loadRoomKey, parsePrivateKey } from '../lib/crypto/index.ts';
import { backupRoom, createRoom, restoreRoom, roomInfo, type RoomInfo } from '../lib/rooms/index.ts';
import { openBundle, sealBundle, streamToBlob, type Manifest, type NamedBytes } from '../lib/bundle/index.ts';
import { prepareWheels, type UnpackedWheel } from '../lib/wheel/index.ts';
import type { GateReport } from '../lib/gate/index.ts';
import { runBundle, type OwnerRun } from '../lib/runs/index.ts';
import { AIRLOCK_VERSION } from '../lib/version.ts';
import {
  loadFile,
  listTables,
  loadTable,
  previewTable,
  renameTable,
  deleteTable,
  type IngestOptions,
  type TableMeta,
} from '../lib/data/index.ts';

export interface AutomationRunRequest {
  /** The notebook and wheels, or promises of them (Python starts while a bundle is still opening). */
  notebook: string | Uint8Array | Promise<string | Uint8Array>;
  wheels?: Array<WheelFile | UnpackedWheel> | Promise<Array<WheelFile | UnpackedWheel>>;
  tables?: SandboxTable[];
  /** Read-only files placed under /airlock/input/ (see runs/inference.ts). */
  inputs?: Array<{ path: string; bytes: Uint8Array }>;
  /** Stored tables to mount, by name (optionally under the name the notebook uses). */
  storedTables?: Array<string | { name: string; as: string }>;
  limits?: Partial<RunLimits>;
  tripwires?: boolean;
  workerSource?: string;
  onEvent?: (e: SandboxEvent) => void;
  signal?: AbortSignal;
}

export interface RunSealedResult {
  refused?: string;
  report?: RunReport;
  gate?: GateReport | null;
  bundle?: OwnerRun['bundle'];
  tables?: OwnerRun['tables'];
  /** What the receipt says but the export's own part (see lib/runs/export.ts). */
  receipt?: OwnerRun['receipt'];
}

export interface BundleSummary {
  signer: string;
  manifest: Manifest;
}

export interface AirlockAutomation {
  /** The owner's room: its key and receipt-signing key (non-extractable, in IndexedDB) and their backup. */
  room: {
    /** Makes the room; `backup` is the passphrase-sealed backup of both keys (armored age). */
    create(options: {
      name?: string;
      passphrase: string;
      workFactor?: number;
    }): Promise<{ room: RoomInfo; backup: string }>;
    /** From a backup (with its passphrase) or a bare age identity file (the room key only). */
    restore(
      text: string,
      options?: { passphrase?: string; replace?: boolean },
    ): Promise<{ room: RoomInfo; receiptKey: 'restored' | 'kept' }>;
    /** A fresh backup file, opened and sealed again with the room's passphrase. */
    backup(passphrase: string, options?: { workFactor?: number }): Promise<string>;
    get(): Promise<(RoomInfo & { extractable: boolean }) | null>;
    remove(): Promise<void>;
  };
  /** The owner's stored tables. */
  data: {
    load(
      file: { name: string; bytes: Uint8Array },
      options?: Omit<IngestOptions, 'signal' | 'onProgress'> & { replace?: boolean },
    ): Promise<TableMeta>;
    /** A picked file (or any Blob with a name), loaded as the Tables tab does (with its progress and cancel). */
    loadFile(file: File, options?: IngestOptions & { replace?: boolean }): Promise<TableMeta>;
    list(): Promise<TableMeta[]>;
    preview(name: string, rows?: number): Promise<{ columns: string[]; rows: string[][] }>;
    rename(from: string, to: string): Promise<void>;
    remove(name: string): Promise<void>;
  };
  /** Opens and checks a bundle with the room key; returns what it is, never its code. */
  inspectBundle(bytes: Uint8Array, options?: { expert?: string }): Promise<BundleSummary>;
  /** The expert's side: seal files into a bundle (the same code as the Expert tab and the CLI). */
  sealBundle(input: {
    recipient: string;
    signingKey: string;
    name: string;
    version: string;
    notebook: NamedBytes;
    wheels: NamedBytes[];
    outputs?: string[];
    tables?: string[];
  }): Promise<Uint8Array>;
  /**
   * The owner's whole run on a sealed bundle, as the headless runner drives it: open and check the
   * bundle (pinning `expert` if given), mount the mapped stored tables, run, and review the outputs
   * at the gate. A refusal (bad bundle, missing table) comes back as `refused`, with nothing run.
   */
  runSealed(req: {
    bundle: Uint8Array;
    mapping: Record<string, string>;
    expert?: string;
    limits?: Partial<RunLimits>;
    onEvent?: (e: SandboxEvent) => void;
  }): Promise<RunSealedResult>;
  /** Opens a bundle with the room key and starts a sandbox with its wheels installed (for measurements). */
  openAndPrepare(
    bytes: Uint8Array,
  ): Promise<{ openMs: number; checkedMs: number; bootedMs: number; readyMs: number; wheels: number }>;
  version: string;
  pyodideVersion: string;
  run(req: AutomationRunRequest): Promise<RunReport>;
  /** A bare sandbox, for measurements and step-by-step automation. */
  sandbox(options?: Omit<SandboxOptions, 'assets'> & { snapshot?: ArrayBuffer }): ReturnType<typeof Sandbox.start>;
  /** A fresh start-up memory image (see Sandbox.makeSnapshot). */
  makeSnapshot(): Promise<ArrayBuffer>;
  /** Makes and stores the warm-start snapshot if there is none; resolves when done. */
  prewarm(): Promise<boolean>;
  clearSnapshot(): Promise<void>;
}

export function installAutomation(): void {
  // Start loading the runtime files with the page; every run needs them.
  void loadPyodideAssets().catch(() => {});
  const automation: AirlockAutomation = {
    version: AIRLOCK_VERSION,
    pyodideVersion: __PYODIDE_VERSION__,
    async run(req) {
      const stored = await Promise.all(
        (req.storedTables ?? []).map((t) => (typeof t === 'string' ? loadTable(t) : loadTable(t.name, t.as))),
      );
      return runNotebook({ wheels: [], ...req, tables: [...(req.tables ?? []), ...stored], assets: runtimeAssets() });
    },
    data: {
      async load(file, options = {}) {
        return this.loadFile(new File([file.bytes as BlobPart], file.name), options);
      },
      async loadFile(file, options = {}) {
        // As the Tables tab loads a file the owner picked.
        return (await loadFile(file, options)).meta;
      },
      list: listTables,
      preview: previewTable,
      rename: renameTable,
      remove: deleteTable,
    },
    async sandbox(options = {}) {
      const assets = runtimeAssets().then((a) => (options.snapshot ? { ...a, snapshot: options.snapshot } : a));
      return Sandbox.start({ ...options, assets });
    },
    async prewarm() {
      return !!(await ensureSnapshot(await loadPyodideAssets()));
    },
    clearSnapshot,
    room: {
      create: createRoom,
      restore: restoreRoom,
      backup: backupRoom,
      async get() {
        const [r, info] = await Promise.all([loadRoomKey(), roomInfo()]);
        return r && info ? { ...info, extractable: r.key.extractable } : null;
      },
      remove: deleteRoomKey,
    },
    async sealBundle(input) {
      const { stream } = await sealBundle({ ...input, signer: parsePrivateKey(input.signingKey) });
      return new Uint8Array(await (await streamToBlob(stream)).arrayBuffer());
    },
    async runSealed(req) {
      const room = await loadRoomKey();
      if (!room) return { refused: 'this browser has no room key; restore the owner key first' };
      const limits = { ...DEFAULT_LIMITS, ...req.limits };
      const r = await runBundle({
        identity: room.key,
        bundle: { sealed: req.bundle, ...(req.expert ? { expert: req.expert } : {}) },
        mapping: req.mapping,
        policy: { timeLimitSeconds: limits.timeLimitMs / 1000, maxOutputBytes: limits.maxOutputBytes },
        assets: runtimeAssets(),
        ...(req.onEvent ? { onEvent: req.onEvent } : {}),
      });
      if (!r.ok) return { refused: r.refused.message };
      return { report: r.report, gate: r.gate, tables: r.tables, bundle: r.bundle, receipt: r.receipt };
    },
    async openAndPrepare(bytes) {
      const room = await loadRoomKey();
      if (!room) throw new Error('this browser has no room key yet');
      // What a run does before its first cell: Python starts while the bundle is decrypted, and the
      // wheels are checked in the host (beside the bundle's own hash checks) while Python is still starting.
      const t0 = performance.now();
      const booting = Sandbox.start({ assets: runtimeAssets() });
      booting.catch(() => {});
      const b = await openBundle(bytes, room.key, { prepareWheels });
      const openMs = performance.now() - t0;
      const unpacked = await b.prepared.wheels;
      const checkedMs = performance.now() - t0;
      const { sandbox } = await booting;
      const bootedMs = performance.now() - t0;
      try {
        const installed = await sandbox.installWheels(unpacked);
        return { openMs, checkedMs, bootedMs, readyMs: performance.now() - t0, wheels: installed.length };
      } finally {
        sandbox.dispose();
      }
    },
    async inspectBundle(bytes, options = {}) {
      const room = await loadRoomKey();
      if (!room) throw new Error('this browser has no room key yet; create or restore one first');
      const b = await openBundle(bytes, room.key, options);
      return { signer: b.signer, manifest: b.manifest };
    },
    async makeSnapshot() {
      return Sandbox.makeSnapshot({ assets: await loadPyodideAssets() });
    },
  };
  (window as unknown as { airlock: AirlockAutomation }).airlock = automation;
}
