/**
 * The owner's side of the app as reactive state: room key, tables, bundles, runs. Components render
 * it and call its methods; all I/O goes through src/lib.
 */
import { formatPublicKey, loadRoomKey, ownerSigner } from '../../lib/crypto/index.ts';
import { backupRoom, createRoom, restoreRoom, roomInfo, type RoomInfo } from '../../lib/rooms/index.ts';
import { appendAudit, readAuditLog, verifyAuditLog, type AuditEntry } from '../../lib/audit/index.ts';
import {
  DEFAULT_POLICY,
  exportRun,
  inferenceRun,
  listRuns,
  runBundle,
  type OwnerRun,
  type RunSummary,
} from '../../lib/runs/index.ts';
import {
  importBundle,
  listBundles,
  openStoredBundle,
  pinnedExpert,
  BundleError,
  type StoredBundle,
} from '../../lib/bundle/index.ts';
import {
  buildInvitation,
  deleteTable,
  inferColumns,
  loadFile,
  listTables,
  loadTable,
  previewTable,
  renameTable,
  IngestError,
  type IngestOptions,
  type TableMeta,
} from '../../lib/data/index.ts';
import { runtimeAssets, type ColumnType } from '../../lib/sandbox/index.ts';
import type { GateReport } from '../../lib/gate/index.ts';
import type { AirlockAutomation } from '../automation.ts';
import { RunState } from '../run/run-state.svelte.ts';

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
  room = $state<RoomInfo | null>(null);
  /** A room operation that takes seconds (scrypt) is under way. */
  busy = $state<string | null>(null);
  tables = $state<TableMeta[]>([]);
  bundles = $state<StoredBundle[]>([]);
  pinned = $state<string | undefined>(undefined);
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
  approved = $state<{ key: string; files: Array<{ path: string; bytes: Uint8Array }> } | null>(null);
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

  private say(text: string, kind: 'ok' | 'error' = 'ok') {
    this.message = { text, kind };
  }

  private fail(e: unknown) {
    this.say(e instanceof Error ? e.message : String(e), 'error');
  }

  async refresh(): Promise<void> {
    try {
      const [room, tables, bundles, pinned, runs] = await Promise.all([
        roomInfo(),
        listTables(),
        listBundles(),
        pinnedExpert(),
        listRuns(),
      ]);
      this.runs = runs;
      this.room = room ?? null;
      this.tables = tables;
      this.bundles = bundles;
      this.pinned = pinned;
    } catch (e) {
      this.fail(e);
    }
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
      this.room = room;
      await appendAudit('room.created', { recipient: room.recipient, receiptKey: room.receiptFingerprint ?? '' });
      download(backupName(room.name), backup, 'text/plain');
      this.say(
        'Room created. Its backup was downloaded, sealed with your passphrase: keep both safe — together they are the only way to move this room (its key and its receipt-signing key) to another browser.',
      );
    });
  }

  async restoreRoom(file: File, passphrase: string): Promise<void> {
    await this.#busy('Opening the backup…', async () => {
      const { room, receiptKey } = await restoreRoom(await file.text(), { passphrase });
      this.room = room;
      await appendAudit('room.restored', {
        recipient: room.recipient,
        receiptKey: receiptKey === 'restored' ? (room.receiptFingerprint ?? '') : 'kept',
      });
      this.say(
        receiptKey === 'restored'
          ? `Room "${room.name}" restored with its receipt-signing key ${room.receiptFingerprint}: receipts verify against the invitation you sent before.`
          : 'Room key restored from an identity file. That file holds no receipt-signing key: receipts from this browser are signed by its own key, so send your expert a new invitation.',
      );
    });
  }

  async backupRoom(passphrase: string): Promise<void> {
    await this.#busy('Sealing a new backup…', async () => {
      const backup = await backupRoom(passphrase);
      await appendAudit('room.backup', { recipient: this.room?.recipient ?? '' });
      download(backupName(this.room?.name ?? 'room'), backup, 'text/plain');
      this.say('A new backup of the room was downloaded, sealed with the same passphrase.');
    });
  }

  invitation(stats: Record<string, string[]>): void {
    const current = this.room;
    if (!current) return this.say('Create the room key first.', 'error');
    const room = current.name;
    void (async () => {
      try {
        const tables = [];
        for (const t of this.tables) {
          const full = await loadTable(t.name);
          tables.push({ name: t.name, rowCount: full.rowCount, columns: full.columns });
        }
        const owner = formatPublicKey((await ownerSigner()).publicKey);
        const inv = {
          ...buildInvitation({
            room,
            recipient: current.recipient,
            tables,
            stats,
            ...(this.pinned ? { expert: this.pinned } : {}),
          }),
          owner,
        };
        await appendAudit('invitation.exported', {
          room,
          tables: tables.length,
          statistics: Object.values(stats).flat().length,
        });
        download('invitation.json', JSON.stringify(inv, null, 2) + '\n', 'application/json');
        this.say(
          'Invitation downloaded: names, types, counts and missing rates only' +
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

  async load(replace = false): Promise<void> {
    const s = this.sniffed;
    if (!s) return;
    const columns: IngestOptions['columns'] = {};
    for (const c of s.columns) if (c.type !== c.inferred) columns[c.name] = { type: c.type };
    this.#abort = new AbortController();
    this.loading = { name: s.name, done: 0, total: s.file.size };
    try {
      const { meta, report } = await loadFile(s.file, {
        name: s.name,
        columns,
        replace,
        signal: this.#abort.signal,
        onProgress: (done, total) => (this.loading = { name: s.name, done, total: total ?? s.file.size }),
      });
      await appendAudit(replace ? 'table.replaced' : 'table.loaded', {
        name: meta.name,
        rows: meta.rowCount,
        fingerprint: meta.fingerprint,
        file: s.file.name,
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
      await renameTable(from, to);
      await appendAudit('table.renamed', { from, to });
      await this.refresh();
    } catch (e) {
      this.fail(e);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await deleteTable(name);
      await appendAudit('table.deleted', { name });
      if (this.preview?.name === name) this.preview = null;
      await this.refresh();
      this.say(`Deleted ${name}.`);
    } catch (e) {
      this.fail(e);
    }
  }

  async importBundleFile(file: File, options: { pinSigner?: boolean; force?: boolean } = {}): Promise<void> {
    const room = await loadRoomKey();
    if (!room) return this.say('Create or restore the room key first: bundles are sealed to it.', 'error');
    try {
      const r = await importBundle(new Uint8Array(await file.arrayBuffer()), room.key, options);
      this.pendingBundle = null;
      await appendAudit('bundle.imported', {
        name: r.bundle.name,
        version: r.bundle.version,
        signer: r.bundle.signer,
        ...(r.replaced ? { replaces: r.replaced } : {}),
      });
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
   * Exports the last run's outputs with a receipt signed by the owner's key. A run the gate blocked
   * leaves only with the owner's written reason, which the receipt records.
   */
  async exportOutputs(override: { reason: string } | undefined, encryptTo?: string): Promise<void> {
    const run = this.#lastRun;
    if (!run) return;
    try {
      const exported = await exportRun(run, await ownerSigner(), {
        ...(override ? { override } : {}),
        ...(encryptTo ? { encryptTo } : {}),
        record: true,
      });
      for (const f of exported.files) download(f.name.replaceAll('/', '_'), f.bytes, f.type);
      this.approved = {
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
    const room = await loadRoomKey();
    if (!room || !this.approved)
      return this.say('Export a model first: only an approved model scores tables.', 'error');
    try {
      const b = await openStoredBundle(this.approved.key, room.key);
      if (!b.manifest.inference) return this.say('This bundle declares no inference entry point.', 'error');
      const { notebook, inputs } = inferenceRun(b.manifest.inference, table, this.approved.files);
      await appendAudit('inference.started', { bundle: this.approved.key, table });
      const report = await this.scoreRun.start({
        notebook,
        inputs,
        wheels: b.wheels.map((w) => ({ filename: w.filename, bytes: w.bytes.slice().buffer as ArrayBuffer })),
        tables: [await loadTable(table)],
      });
      await appendAudit('inference.ended', { bundle: this.approved.key, table, status: report.status });
    } catch (e) {
      this.fail(e);
    }
  }

  async loadAudit(): Promise<void> {
    const [entries, check] = await Promise.all([readAuditLog(), verifyAuditLog()]);
    this.audit = {
      entries,
      check: check.ok
        ? `intact: ${check.entries} entries, every link checks out`
        : `BROKEN at entry ${check.brokenAt}: ${check.reason}`,
    };
  }

  exportAudit(): void {
    if (this.audit)
      download('airlock-audit-log.json', JSON.stringify(this.audit.entries, null, 2) + '\n', 'application/json');
  }

  async runBundle(key: string, mapping: Record<string, string>): Promise<void> {
    const room = await loadRoomKey().catch(() => undefined);
    if (!room) return this.say('Create or restore the room key first.', 'error');
    this.gate = null;
    this.#lastRun = null;
    try {
      const result = await this.run.track(
        (hooks) =>
          runBundle({
            identity: room.key,
            bundle: { key },
            mapping,
            policy: DEFAULT_POLICY,
            assets: runtimeAssets(),
            record: true,
            ...hooks,
          }),
        (r) => (r.ok ? r.report : null),
      );
      if (!result.ok) return this.say(result.refused.message, 'error');
      this.#lastRun = result;
      this.gate = result.gate;
      this.replyTo = result.replyTo;
      this.runs = await listRuns();
    } catch (e) {
      this.fail(e);
    }
  }
}
