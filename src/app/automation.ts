/**
 * `window.airlock`: the automation surface of the built app. The headless runner (`airlock run`)
 * and the browser tests drive the real app through it — the same code path as the UI, no other.
 */
import {
  Sandbox,
  loadPyodideAssets,
  runNotebook,
  runtimeAssets,
  ensureSnapshot,
  clearSnapshot,
  type SandboxOptions,
  type RunReport,
  type SandboxTable,
  type WheelFile,
  type RunEvent,
  type RunLimits,
} from '../lib/sandbox/index.ts';
import { parsePrivateKey } from '../lib/crypto/index.ts';
import {
  addTable,
  deleteOwnerTable,
  renameOwnerTable,
  archiveRoom,
  backupRooms,
  createRoom,
  deleteRoom,
  getRoom,
  grantTable,
  importBundle,
  deleteRoomBundle,
  listRooms,
  renameRoom,
  restoreRooms,
  revokeTable,
  roomIdentity,
  roomInvitation,
  roomSigner,
  setPolicy,
  trustExpert,
  untrustExpert,
  type RestoreResult,
  type Room,
  type RoomInvitation,
  type RoomPolicy,
} from '../lib/rooms/index.ts';
import { readAuditLog, verifyAuditLog, type AuditEntry } from '../lib/audit/index.ts';
import {
  listBundles,
  openBundle,
  sealBundle,
  streamToBlob,
  type Manifest,
  type SealInput,
  type StoredBundle,
} from '../lib/bundle/index.ts';
import { prepareWheels, type UnpackedWheel } from '../lib/wheel/index.ts';
import type { GateReport } from '../lib/gate/index.ts';
import type { ExportedRun } from '../lib/receipt/index.ts';
import {
  exportOwnerRun,
  listRuns,
  runBundle,
  type OwnerRun,
  type OwnerRunInput,
  type OwnerRunResult,
  type RunSummary,
  type RunPolicy,
  policyProblems,
} from '../lib/runs/index.ts';
import { AIRLOCK_VERSION } from '../lib/version.ts';
import { lanes } from './lanes.ts';
import { listTables, loadTable, previewTable, type IngestOptions, type TableMeta } from '../lib/data/index.ts';

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
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
}

export interface RunSealedResult {
  refused?: string;
  /** Why it was refused, as a code (lib/runs RefusalCode). */
  refusal?: string;
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
  /**
   * The owner's rooms: each with its own room key and receipt-signing key (non-extractable, in
   * IndexedDB), policy, trusted experts, granted tables, bundles and runs (lib/rooms).
   */
  rooms: {
    list(): Promise<Room[]>;
    /** Makes a room; `backup` is the passphrase-sealed backup of both its keys (armored age). */
    create(options: {
      name?: string;
      passphrase: string;
      policy?: Partial<RoomPolicy>;
      grants?: string[];
      workFactor?: number;
    }): Promise<{ room: Room; backup: string }>;
    /** From a backup (with its passphrase) or a bare age identity file (a room with its room key only). */
    restore(text: string, options?: { passphrase?: string; only?: string[]; name?: string }): Promise<RestoreResult>;
    /** One backup file of these rooms (or all), sealed with the passphrase that opens each room's kept backup. */
    backup(ids: string[] | 'all', passphrase: string, options?: { workFactor?: number }): Promise<string>;
    rename(id: string, name: string): Promise<Room>;
    archive(id: string, archived: boolean): Promise<Room>;
    remove(id: string): Promise<{ bundles: number; runs: number }>;
    setPolicy(id: string, policy: Partial<RoomPolicy>): Promise<Room>;
    trust(id: string, key: string, name?: string): Promise<Room>;
    untrust(id: string, fingerprint: string): Promise<Room>;
    grant(id: string, table: string): Promise<Room>;
    revoke(id: string, table: string): Promise<Room>;
    invitation(id: string, stats?: Record<string, string[]>): Promise<RoomInvitation>;
    /** As the Bundles tab imports a file: `trust` trusts its signer when the room trusts no one yet. */
    importBundle(
      id: string,
      bytes: Uint8Array,
      options?: { trust?: boolean; force?: boolean },
    ): Promise<{ bundle: StoredBundle; replaced?: string }>;
    bundles(id: string): Promise<StoredBundle[]>;
    /** Deletes one imported version (logged); the newest remaining version of that name becomes active. */
    removeBundle(id: string, key: string): Promise<{ promoted?: StoredBundle }>;
    runs(id: string): Promise<RunSummary[]>;
    /** The Bundles tab's Run: a stored bundle on the room's granted tables. */
    run(
      id: string,
      bundleKey: string,
      mapping: Record<string, string>,
      options?: { onEvent?: (e: RunEvent) => void },
    ): Promise<RunSealedResult>;
  };
  /**
   * Exports the last run made through `rooms.run` or `runSealed`, signed with its room's receipt key:
   * the files that leave (outputs or their encrypted zip, receipt.json, receipt.json.sig).
   */
  exportLast(options?: { override?: { reason: string }; encryptTo?: string }): Promise<ExportedRun>;
  /** The audit log, and whether its chain is intact. */
  audit: {
    read(room?: string): Promise<AuditEntry[]>;
    verify(): Promise<{ ok: boolean; entries: number }>;
  };
  /** The owner's stored tables. */
  data: {
    load(
      file: { name: string; bytes: Uint8Array },
      options?: Omit<IngestOptions, 'signal' | 'onProgress'> & { replace?: boolean; grantTo?: string },
    ): Promise<TableMeta>;
    /**
     * A picked file (or any Blob with a name), loaded as the Tables tab does (with its progress and
     * cancel), and granted to the room `grantTo` if given.
     */
    loadFile(file: File, options?: IngestOptions & { replace?: boolean; grantTo?: string }): Promise<TableMeta>;
    list(): Promise<TableMeta[]>;
    preview(name: string, rows?: number): Promise<{ columns: string[]; rows: string[][] }>;
    rename(from: string, to: string): Promise<void>;
    remove(name: string): Promise<void>;
  };
  /** Opens and checks a bundle with a room's key; returns what it is, never its code. */
  inspectBundle(bytes: Uint8Array, options: { room: string; expert?: string }): Promise<BundleSummary>;
  /** The expert's side: seal files into a bundle (the same code as the Expert tab and the CLI). */
  sealBundle(input: Omit<SealInput, 'signer'> & { signingKey: string }): Promise<Uint8Array>;
  /**
   * The owner's whole run on a sealed bundle in a room, as the headless runner drives it: open and
   * check the bundle (refusing any signer but `expert` if given), mount the mapped granted tables,
   * run, and review the outputs at the gate. A refusal (bad bundle, missing or ungranted table)
   * comes back as `refused`, with nothing run. `limits` narrow the room's policy for this run.
   */
  runSealed(req: {
    room: string;
    bundle: Uint8Array;
    mapping: Record<string, string>;
    expert?: string;
    limits?: Partial<RunLimits>;
    /** Settings of the room's policy for this run (`airlock run --policy`, its flags); checked like the Room tab's. */
    policy?: Partial<RunPolicy>;
    onEvent?: (e: RunEvent) => void;
  }): Promise<RunSealedResult>;
  /** Opens a bundle with a room's key and starts a sandbox with its wheels installed (for measurements). */
  openAndPrepare(
    bytes: Uint8Array,
    room: string,
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

/** The last run of this page, for `exportLast` (the app keeps its own in the Bundles tab's state). */
let last: OwnerRun | undefined;

/** Runs a bundle in a room with the room's key, grants and policy (narrowed by `limits`). */
async function runInRoom(
  id: string,
  bundle: OwnerRunInput['bundle'],
  mapping: Record<string, string>,
  options: {
    limits?: Partial<RunLimits>;
    policy?: Partial<RunPolicy>;
    onEvent?: (e: RunEvent) => void;
    record?: boolean;
  },
): Promise<OwnerRunResult> {
  const [room, identity] = await Promise.all([getRoom(id), roomIdentity(id)]);
  const policy = {
    ...room.policy,
    ...options.policy,
    ...(options.limits?.timeLimitMs ? { timeLimitSeconds: options.limits.timeLimitMs / 1000 } : {}),
    ...(options.limits?.maxOutputBytes ? { maxOutputBytes: options.limits.maxOutputBytes } : {}),
  };
  const result = await runBundle({
    room: { id, identity: identity.key, grants: room.grants, policy },
    bundle,
    mapping,
    assets: runtimeAssets(),
    record: !!options.record,
    lanes,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  if (result.ok) last = result;
  return result;
}

function settle(r: OwnerRunResult): RunSealedResult {
  if (!r.ok) return { refused: r.refused.message, refusal: r.refused.code };
  return { report: r.report, gate: r.gate, tables: r.tables, bundle: r.bundle, receipt: r.receipt };
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
        return (await addTable(file, { ...options, lanes })).meta;
      },
      list: listTables,
      preview: previewTable,
      rename: renameOwnerTable,
      remove: deleteOwnerTable,
    },
    async sandbox(options = {}) {
      const assets = runtimeAssets().then((a) => (options.snapshot ? { ...a, snapshot: options.snapshot } : a));
      return Sandbox.start({ ...options, assets });
    },
    async prewarm() {
      return !!(await ensureSnapshot(await loadPyodideAssets()));
    },
    clearSnapshot,
    rooms: {
      list: listRooms,
      create: createRoom,
      restore: restoreRooms,
      backup: backupRooms,
      rename: renameRoom,
      archive: archiveRoom,
      remove: deleteRoom,
      setPolicy,
      trust: trustExpert,
      untrust: untrustExpert,
      grant: grantTable,
      revoke: revokeTable,
      invitation: roomInvitation,
      importBundle: (id, bytes, options = {}) => importBundle(id, bytes, { ...options, lanes }),
      bundles: listBundles,
      removeBundle: deleteRoomBundle,
      runs: listRuns,
      async run(id, bundleKey, mapping, options = {}) {
        return settle(await runInRoom(id, { key: bundleKey }, mapping, { ...options, record: true }));
      },
    },
    async exportLast(options = {}) {
      if (!last) throw new Error('no run to export: run a bundle first');
      return exportOwnerRun(last, await roomSigner(last.room), options);
    },
    audit: {
      read: async (room) => (await readAuditLog()).filter((e) => room === undefined || e.room === room),
      verify: async () => {
        const v = await verifyAuditLog();
        return { ok: v.ok, entries: v.entries };
      },
    },
    async sealBundle(input) {
      const { stream } = await sealBundle({ ...input, signer: parsePrivateKey(input.signingKey) }, { lanes });
      return new Uint8Array(await (await streamToBlob(stream)).arrayBuffer());
    },
    async runSealed(req) {
      const problems = policyProblems(req.policy ?? {});
      if (problems.length) return { refused: problems.join('; '), refusal: 'policy' };
      // A room that trusts experts refuses any other signer, as its imports do.
      const { experts } = await getRoom(req.room);
      const sealed = {
        sealed: req.bundle,
        ...(req.expert ? { expert: req.expert } : {}),
        experts: experts.map((e) => e.fingerprint),
      };
      return settle(await runInRoom(req.room, sealed, req.mapping, req));
    },
    async openAndPrepare(bytes, id) {
      const room = await roomIdentity(id);
      // What a run does before its first cell: Python starts while the bundle is decrypted, and the
      // wheels are checked in the host (beside the bundle's own hash checks) while Python is still starting.
      const t0 = performance.now();
      const booting = Sandbox.start({ assets: runtimeAssets() });
      booting.catch(() => {});
      const b = await openBundle(bytes, room.key, { prepareWheels, lanes });
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
    async inspectBundle(bytes, options) {
      const room = await roomIdentity(options.room);
      const b = await openBundle(bytes, room.key, { ...(options.expert ? { expert: options.expert } : {}), lanes });
      return { signer: b.signer, manifest: b.manifest };
    },
    async makeSnapshot() {
      return Sandbox.makeSnapshot({ assets: await loadPyodideAssets() });
    },
  };
  window.airlock = automation;
}

declare global {
  interface Window {
    /** The automation surface (this file): tests, benchmarks and `airlock run` drive the app through it. */
    airlock: AirlockAutomation;
  }
}
