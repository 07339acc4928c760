/**
 * The owner's side of the app as reactive state: rooms, tables, bundles, runs. Components render
 * it and call its methods; every workflow is in src/lib (rooms, runs), the same code
 * `window.airlock` and the CLI call.
 */
import { readAuditLog, verifyAuditLog, type AuditEntry } from '../../lib/audit/index.ts';
import { BundleError, listBundles, type StoredBundle } from '../../lib/bundle/index.ts';
import { lanes } from '../lanes.ts';
import {
  inferColumns,
  listTables,
  previewTable,
  IngestError,
  type IngestOptions,
  type TableMeta,
} from '../../lib/data/index.ts';
import type { GateReport } from '../../lib/gate/index.ts';
import {
  addTable,
  backupRooms,
  createRoom,
  deleteOwnerTable,
  getRoom,
  grantTable,
  importBundle,
  listRooms,
  renameOwnerTable,
  restoreRooms,
  revokeTable,
  roomIdentity,
  roomInvitation,
  roomSigner,
  type Room,
} from '../../lib/rooms/index.ts';
import {
  exportOwnerRun,
  listRuns,
  runBundle,
  scoreTable,
  type OwnerRun,
  type RunSummary,
} from '../../lib/runs/index.ts';
import { runtimeAssets, type ColumnType } from '../../lib/sandbox/index.ts';
import type { AirlockAutomation } from '../automation.ts';
import { RunState } from '../run/run-state.svelte.ts';
import { visibleText } from '../../lib/text/index.ts';

export function download(name: string, data: string | Uint8Array | Blob, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(data instanceof Blob ? data : new Blob([data as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The backup's file name: the room's name, made safe for any file system. */
function backupName(room: string): string {
  const slug = room
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  return `airlock-room${slug ? '-' + slug : ''}.age`;
}

export interface Sniffed {
  file: File;
  name: string;
  columns: Array<{ name: string; type: ColumnType; inferred: ColumnType }>;
  warnings: string[];
}

export class Owner {
  rooms = $state<Room[]>([]);
  /** The room the owner works in: every tab shows and acts on it. */
  roomId = $state<string | null>(null);
  /** A room operation that takes seconds (scrypt) is under way. */
  busy = $state<string | null>(null);
  tables = $state<TableMeta[]>([]);
  bundles = $state<StoredBundle[]>([]);
  /** One-line messages for the owner, newest first. */
  message = $state<{ text: string; kind: 'ok' | 'error' } | null>(null);
  loading = $state<{ name: string; done: number; total: number } | null>(null);
  sniffed = $state<Sniffed | null>(null);
  pendingBundle = $state<{ file: File; signer: string } | null>(null);
  preview = $state<{ name: string; columns: string[]; rows: string[][] } | null>(null);
  /** The output gate's report on the last run's outputs. */
  gate = $state<GateReport | null>(null);
  audit = $state<{ entries: AuditEntry[]; check: string } | null>(null);
  runs = $state<RunSummary[]>([]);
  /** The model the owner exported last (an approved model), for scoring tables. */
  approved = $state<{ room: string; key: string; files: Array<{ path: string; bytes: Uint8Array }> } | null>(null);
  readonly scoreRun: RunState;
  /** What the last run's receipt will say. */
  #lastRun: OwnerRun | null = null;
  /** The last run's bundle author's age recipient, if they gave one (outputs may be encrypted to it). */
  replyTo = $state<string | undefined>(undefined);
  readonly run: RunState;
  #abort: AbortController | null = null;

  constructor(airlock: AirlockAutomation) {
    this.run = new RunState(airlock);
    this.scoreRun = new RunState(airlock);
  }

  /** The current room, or null before there is one. */
  get room(): Room | null {
    return this.rooms.find((r) => r.id === this.roomId) ?? null;
  }

  private say(text: string, kind: 'ok' | 'error' = 'ok') {
    this.message = { text, kind };
  }

  private fail(e: unknown) {
    this.say(e instanceof Error ? e.message : String(e), 'error');
  }

  async refresh(): Promise<void> {
    try {
      const [rooms, tables] = await Promise.all([listRooms(), listTables()]);
      this.rooms = rooms;
      if (!rooms.some((r) => r.id === this.roomId))
        this.roomId = (rooms.find((r) => !r.archived) ?? rooms[0])?.id ?? null;
      this.tables = tables;
      const id = this.roomId;
      [this.bundles, this.runs] = id ? await Promise.all([listBundles(id), listRuns(id)]) : [[], []];
    } catch (e) {
      this.fail(e);
    }
  }

  async selectRoom(id: string): Promise<void> {
    if (id === this.roomId) return;
    this.roomId = id;
    this.gate = null;
    this.#lastRun = null;
    this.pendingBundle = null;
    await this.refresh();
  }

  /** Runs a room operation that takes seconds (scrypt) with a busy note painted first. */
  async #busy<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    this.busy = what;
    await new Promise((r) => setTimeout(r, 30));
    try {
      return await work();
    } catch (e) {
      this.fail(e);
      return undefined;
    } finally {
      this.busy = null;
    }
  }

  async createRoom(name: string, passphrase: string): Promise<void> {
    await this.#busy("Making the room's keys and sealing their backup…", async () => {
      const { room, backup } = await createRoom({ name, passphrase });
      this.roomId = room.id;
      await this.refresh();
      download(backupName(room.name), backup, 'text/plain');
      this.say(
        `Room "${room.name}" created. Its backup was downloaded, sealed with your passphrase: keep both safe — together they are the only way to move this room (its key and its receipt-signing key) to another browser.`,
      );
    });
  }

  async restoreRooms(file: File, passphrase: string): Promise<void> {
    await this.#busy('Opening the backup…', async () => {
      const { restored, skipped } = await restoreRooms(await file.text(), { passphrase });
      if (restored[0]) this.roomId = restored[0].id;
      await this.refresh();
      const parts = [];
      if (restored.length) {
        parts.push(
          `Restored ${restored.map((r) => `"${r.name}"`).join(', ')}${restored.length === 1 ? ` with its receipt-signing key ${restored[0]!.receiptFingerprint}` : ''}.`,
        );
        if (!restored.every((r) => r.backedUp)) {
          parts.push(
            'An identity file holds no receipt-signing key: receipts are signed by a new key, so send your expert a new invitation.',
          );
        }
      }
      for (const s of skipped) parts.push(`"${s.name}" was not restored: ${s.reason}.`);
      this.say(parts.join(' '), restored.length ? 'ok' : 'error');
    });
  }

  async backupRooms(which: 'current' | 'all', passphrase: string): Promise<void> {
    const room = this.room;
    await this.#busy('Sealing a new backup…', async () => {
      const text = await backupRooms(which === 'all' ? 'all' : [room!.id], passphrase);
      download(which === 'all' ? 'airlock-rooms.age' : backupName(room!.name), text, 'text/plain');
      this.say(
        which === 'all'
          ? `A backup of all ${this.rooms.length} rooms was downloaded, sealed with the same passphrase.`
          : `A new backup of "${room!.name}" was downloaded, sealed with the same passphrase.`,
      );
    });
  }

  async setGrant(table: string, granted: boolean): Promise<void> {
    if (!this.roomId) return;
    try {
      await (granted ? grantTable : revokeTable)(this.roomId, table);
      await this.refresh();
    } catch (e) {
      this.fail(e);
    }
  }

  invitation(stats: Record<string, string[]>): void {
    const room = this.room;
    if (!room) return this.say('Create a room first.', 'error');
    void (async () => {
      try {
        const inv = await roomInvitation(room.id, stats);
        download('invitation.json', JSON.stringify(inv, null, 2) + '\n', 'application/json');
        this.say(
          `Invitation for "${room.name}" downloaded: ${inv.tables.length} granted table(s), names, types, counts and missing rates only` +
            (Object.values(stats).flat().length ? ', plus the k-anonymous statistics you chose.' : '.'),
        );
      } catch (e) {
        this.fail(e);
      }
    })();
  }

  /**
   * Reads the start of a file to show the column types before loading it whole: the types the
   * load itself will infer (the same rows, the same code), read no further than those rows.
   */
  async sniff(file: File): Promise<void> {
    try {
      const sample = await inferColumns({
        name: file.name,
        size: file.size,
        stream: () => file.stream(),
        slice: (s, e) => file.slice(s, e),
      });
      this.sniffed = {
        file,
        name: sample.name,
        columns: sample.columns.map((c) => ({ name: c.name, type: c.type, inferred: c.type })),
        warnings: sample.warnings,
      };
    } catch (e) {
      this.sniffed = null;
      this.fail(e instanceof IngestError ? `${file.name}: ${e.message}` : e);
    }
  }

  /** Loads the sniffed file; it is granted to the current room (other rooms see it once granted there). */
  async load(replace = false): Promise<void> {
    const s = this.sniffed;
    if (!s) return;
    const columns: IngestOptions['columns'] = {};
    for (const c of s.columns) if (c.type !== c.inferred) columns[c.name] = { type: c.type };
    this.#abort = new AbortController();
    this.loading = { name: s.name, done: 0, total: s.file.size };
    try {
      const { meta, report } = await addTable(s.file, {
        name: s.name,
        columns,
        replace,
        signal: this.#abort.signal,
        onProgress: (done, total) => (this.loading = { name: s.name, done, total: total ?? s.file.size }),
        ...(this.roomId ? { grantTo: this.roomId } : {}),
        lanes,
      });
      this.sniffed = null;
      this.say(
        `Loaded ${meta.name}: ${meta.rowCount.toLocaleString()} rows, ${meta.columns.length} columns.${report.warnings.length ? ' ' + report.warnings.join('; ') + '.' : ''}`,
      );
      await this.refresh();
    } catch (e) {
      this.fail(e);
    } finally {
      this.loading = null;
      this.#abort = null;
    }
  }

  cancelLoad(): void {
    this.#abort?.abort();
  }

  async showPreview(name: string): Promise<void> {
    try {
      this.preview = { name, ...(await previewTable(name, 10)) };
    } catch (e) {
      this.fail(e);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      await renameOwnerTable(from, to);
      await this.refresh();
    } catch (e) {
      this.fail(e);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await deleteOwnerTable(name);
      if (this.preview?.name === name) this.preview = null;
      await this.refresh();
      this.say(`Deleted ${name}.`);
    } catch (e) {
      this.fail(e);
    }
  }

  async importBundleFile(file: File, options: { trust?: boolean; force?: boolean } = {}): Promise<void> {
    const room = this.room;
    if (!room) return this.say('Create or restore a room first: bundles are sealed to a room.', 'error');
    try {
      const r = await importBundle(room.id, new Uint8Array(await file.arrayBuffer()), { ...options, lanes });
      this.pendingBundle = null;
      this.say(
        `Imported ${r.bundle.name} ${r.bundle.version} from ${r.bundle.signer}${r.replaced ? ` (replaces ${r.replaced})` : ''}.`,
      );
      await this.refresh();
    } catch (e) {
      if (e instanceof BundleError && e.code === 'needs-trust' && e.signer) {
        this.pendingBundle = { file, signer: e.signer };
        return;
      }
      this.fail(e);
    }
  }

  /**
   * Exports the last run's outputs with a receipt signed by its room's key. A run the gate blocked
   * leaves only with the owner's written reason, which the receipt records.
   */
  async exportOutputs(override: { reason: string } | undefined, encryptTo?: string): Promise<void> {
    const run = this.#lastRun;
    if (!run) return;
    try {
      const exported = await exportOwnerRun(run, await roomSigner(run.room), {
        ...(override ? { override } : {}),
        ...(encryptTo ? { encryptTo } : {}),
      });
      // A download named model\u202egnp.exe would show as modelexe.png: name it with the controls visible.
      for (const f of exported.files) download(visibleText(f.name).replaceAll('/', '_'), f.bytes, f.type);
      this.approved = {
        room: run.room,
        key: run.bundle.key!,
        files: run.report.outputs.map((o) => ({ path: o.path, bytes: o.bytes })),
      };
      this.say(`Exported ${exported.receipt.outputs.length} file(s) with a signed receipt.`);
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * Scores a local table with the approved model, through the bundle's inference entry point, in a
   * fresh sandbox. The scores stay in this browser unless the owner downloads them.
   */
  async scoreTable(table: string): Promise<void> {
    const approved = this.approved;
    if (!approved) return this.say('Export a model first: only an approved model scores tables.', 'error');
    try {
      const [room, identity] = await Promise.all([getRoom(approved.room), roomIdentity(approved.room)]);
      const result = await this.scoreRun.track(
        (hooks) =>
          scoreTable({
            room: { id: room.id, identity: identity.key, grants: room.grants, policy: room.policy },
            bundleKey: approved.key,
            model: approved.files,
            table,
            assets: runtimeAssets(),
            lanes,
            ...hooks,
          }),
        (r) => (r.ok ? r.report : null),
      );
      if (!result.ok) this.say(result.refused, 'error');
    } catch (e) {
      this.fail(e);
    }
  }

  async loadAudit(): Promise<void> {
    try {
      const [entries, check] = await Promise.all([readAuditLog(), verifyAuditLog()]);
      this.audit = {
        entries,
        check: check.ok
          ? `intact: ${check.entries} entries, every link checks out`
          : `BROKEN at entry ${check.brokenAt}: ${check.reason}`,
      };
    } catch (e) {
      this.fail(e);
    }
  }

  exportAudit(): void {
    if (this.audit)
      download('airlock-audit-log.json', JSON.stringify(this.audit.entries, null, 2) + '\n', 'application/json');
  }

  async runBundle(key: string, mapping: Record<string, string>): Promise<void> {
    const room = this.room;
    if (!room) return this.say('Create or restore a room first.', 'error');
    this.gate = null;
    this.#lastRun = null;
    try {
      const identity = await roomIdentity(room.id);
      const result = await this.run.track(
        (hooks) =>
          runBundle({
            room: { id: room.id, identity: identity.key, grants: room.grants, policy: room.policy },
            bundle: { key },
            mapping,
            assets: runtimeAssets(),
            record: true,
            lanes,
            ...hooks,
          }),
        (r) => (r.ok ? r.report : null),
      );
      if (!result.ok) return this.say(result.refused.message, 'error');
      this.#lastRun = result;
      this.gate = result.gate;
      this.replyTo = result.replyTo;
      this.runs = await listRuns(room.id);
    } catch (e) {
      this.fail(e);
    }
  }
}
