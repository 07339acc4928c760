/**
 * `window.airlock`: the automation surface of the built app. The headless runner (`airlock run`)
 * and the browser tests drive the real app through it — the same code path as the UI, no other.
 */
import {
  Sandbox,
  DEFAULT_LIMITS,
  loadPyodideAssets,
  runNotebook,
  storedSnapshot,
  ensureSnapshot,
  clearSnapshot,
  type SandboxOptions,
  type RunReport,
  type SandboxTable,
  type WheelFile,
  type SandboxEvent,
  type RunLimits,
} from '../lib/sandbox/index.ts';
import { createRoomKey, deleteRoomKey, importRoomKey, loadRoomKey, parsePrivateKey } from '../lib/crypto/index.ts';
import { openBundle, sealBundle, streamToBlob, type Manifest, type NamedBytes } from '../lib/bundle/index.ts';
import { prepareWheels, type UnpackedWheel } from '../lib/wheel/index.ts';
import { reviewOutputs, type GateReport } from '../lib/gate/index.ts';
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
  bundle?: { name: string; version: string; signer: string; manifestSha256: string; outputs: string[] };
  tables?: Array<{ name: string; as: string; fingerprint: string; rows: number }>;
}

export interface BundleSummary {
  signer: string;
  manifest: Manifest;
}

export interface AirlockAutomation {
  /** The owner's room key (non-extractable, in IndexedDB). */
  room: {
    create(): Promise<{ recipient: string; backup: string }>;
    restore(backup: string, replace?: boolean): Promise<{ recipient: string }>;
    get(): Promise<{ recipient: string; extractable: boolean } | null>;
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

/** The runtime files, with the warm-start snapshot when one is stored. */
async function runtimeAssets() {
  const [assets, snapshot] = await Promise.all([loadPyodideAssets(), storedSnapshot()]);
  return snapshot ? { ...assets, snapshot } : assets;
}

export function installAutomation(): void {
  // Start loading the runtime files with the page; every run needs them.
  void loadPyodideAssets().catch(() => {});
  const automation: AirlockAutomation = {
    version: __AIRLOCK_VERSION__,
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
      async create() {
        const { room, backup } = await createRoomKey();
        return { recipient: room.recipient, backup };
      },
      async restore(backup, replace = false) {
        return { recipient: (await importRoomKey(backup, { replace })).recipient };
      },
      async get() {
        const r = await loadRoomKey();
        return r ? { recipient: r.recipient, extractable: r.key.extractable } : null;
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
      // As the app's Run button: Python starts while the bundle is decrypted and checked and the
      // tables are read; a refused bundle stops the run before anything of it reaches Python.
      class Refusal extends Error {}
      const plan = (async () => {
        let b;
        try {
          b = await openBundle(req.bundle, room.key, { ...(req.expert ? { expert: req.expert } : {}), prepareWheels });
        } catch (e) {
          throw new Refusal((e as Error).message);
        }
        const metas = await listTables();
        const wanted = b.manifest.tables.length ? b.manifest.tables : Object.keys(req.mapping);
        const tables: NonNullable<RunSealedResult['tables']> = [];
        for (const as of wanted) {
          const name = req.mapping[as] ?? as;
          const meta = metas.find((m) => m.name === name);
          if (!meta)
            throw new Refusal(
              `the bundle reads a table "${as}", and there is no local table "${name}" to give it; add --table ${as}=<file>`,
            );
          tables.push({ name, as, fingerprint: meta.fingerprint, rows: meta.rowCount });
        }
        const load = () => Promise.all(tables.map((t) => loadTable(t.name, t.as)));
        const [mounted, forGate] = await Promise.all([load(), load()]);
        return { b, tables, mounted, forGate };
      })();
      plan.catch(() => {});
      const stop = new AbortController();
      const running = runNotebook({
        notebook: plan.then((p) => p.b.notebook),
        wheels: plan.then((p) => p.b.prepared.wheels),
        tables: plan.then((p) => p.mounted),
        limits: req.limits,
        onEvent: req.onEvent,
        signal: stop.signal,
        assets: runtimeAssets(),
      });
      let planned;
      try {
        planned = await plan;
      } catch (e) {
        stop.abort();
        await running.catch(() => {});
        if (e instanceof Refusal) return { refused: e.message };
        throw e;
      }
      const { b, tables, forGate } = planned;
      const report = await running;
      const gate =
        report.status === 'ok'
          ? reviewOutputs(
              report.outputs,
              forGate,
              {
                maxOutputBytes: req.limits?.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes,
                declared: b.manifest.outputs,
                // The review counts inside the run's time limit: it gets what the notebook left of it.
                deadline: performance.now() + (req.limits?.timeLimitMs ?? DEFAULT_LIMITS.timeLimitMs) - report.totalMs,
              },
              report.tripwires,
            )
          : null;
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', b.manifestBytes as Uint8Array<ArrayBuffer>));
      return {
        report,
        gate,
        tables,
        bundle: {
          name: b.manifest.name,
          version: b.manifest.version,
          signer: b.signer,
          manifestSha256: [...digest].map((x) => x.toString(16).padStart(2, '0')).join(''),
          outputs: b.manifest.outputs,
        },
      };
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
