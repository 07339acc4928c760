/**
 * The owner's side of the app as reactive state: room key, tables, bundles, runs. Components render
 * it and call its methods; all I/O goes through src/lib.
 */
import { Encrypter } from 'age-encryption';
import { zipSync } from 'fflate';
import { createRoomKey, formatPublicKey, importRoomKey, loadRoomKey, ownerSigner } from '../../lib/crypto/index.ts';
import { appendAudit, readAuditLog, verifyAuditLog, type AuditEntry } from '../../lib/audit/index.ts';
import { signReceiptWith, type ReceiptBody } from '../../lib/receipt/index.ts';
import { inferenceRun, listRuns, saveRun, type StoredRun } from '../../lib/runs/index.ts';
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
import { DEFAULT_LIMITS, type ColumnType } from '../../lib/sandbox/index.ts';
import { reviewOutputs, type GateReport } from '../../lib/gate/index.ts';
import { prepareWheels } from '../../lib/wheel/index.ts';
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

export interface Sniffed {
  file: File;
  name: string;
  columns: Array<{ name: string; type: ColumnType; inferred: ColumnType }>;
  warnings: string[];
}

export class Owner {
  recipient = $state<string | null>(null);
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
  runs = $state<StoredRun[]>([]);
  /** The model the owner exported last (an approved model), for scoring tables. */
  approved = $state<{ key: string; files: Array<{ path: string; bytes: Uint8Array }> } | null>(null);
  readonly scoreRun: RunState;
  /** What the last run's receipt will say. */
  #lastRun: Omit<ReceiptBody, 'outputs' | 'gate'> | null = null;
  #lastKey: string | null = null;
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
        loadRoomKey(),
        listTables(),
        listBundles(),
        pinnedExpert(),
        listRuns(),
      ]);
      this.runs = runs;
      this.recipient = room?.recipient ?? null;
      this.tables = tables;
      this.bundles = bundles;
      this.pinned = pinned;
    } catch (e) {
      this.fail(e);
    }
  }

  async createRoom(): Promise<void> {
    try {
      const { room, backup } = await createRoomKey();
      this.recipient = room.recipient;
      await appendAudit('room.created', { recipient: room.recipient });
      download('airlock-room.key', backup, 'text/plain');
      this.say(
        'Room key created. Its backup was downloaded: keep it safe — it is the only copy that can leave this browser.',
      );
    } catch (e) {
      this.fail(e);
    }
  }

  async restoreRoom(file: File): Promise<void> {
    try {
      this.recipient = (await importRoomKey(await file.text())).recipient;
      await appendAudit('room.restored', { recipient: this.recipient });
      this.say('Room key restored.');
    } catch (e) {
      this.fail(e);
    }
  }

  invitation(room: string, stats: Record<string, string[]>): void {
    if (!this.recipient) return this.say('Create the room key first.', 'error');
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
            recipient: this.recipient!,
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
      if (e instanceof BundleError && e.code === 'unknown-signer' && /no expert is pinned/.test(e.message)) {
        this.pendingBundle = { file, signer: /SHA256:\S+/.exec(e.message)?.[0] ?? '' };
        return;
      }
      this.fail(e);
    }
  }

  /** Exports the last run's outputs with a receipt signed by the owner's key; `overridden` if the gate failed. */
  async exportOutputs(overridden: boolean, encryptTo?: string): Promise<void> {
    const report = this.run.report;
    if (!report || !this.#lastRun || !this.gate) return;
    try {
      const outputs = await Promise.all(
        report.outputs.map(async (o) => ({
          path: o.path,
          size: o.bytes.byteLength,
          sha256: [...new Uint8Array(await crypto.subtle.digest('SHA-256', o.bytes as Uint8Array<ArrayBuffer>))]
            .map((x) => x.toString(16).padStart(2, '0'))
            .join(''),
        })),
      );
      const signer = await ownerSigner();
      const { bytes, signature } = await signReceiptWith(
        {
          ...this.#lastRun,
          outputs,
          gate: {
            pass: this.gate.pass,
            overridden: !this.gate.pass && overridden,
            problems: this.gate.files.flatMap((f) => f.problems),
            tripwires: this.gate.tripwires.map((t) => t.name),
          },
        },
        signer.publicKey,
        signer.sign,
      );
      if (encryptTo) {
        // One zip of the outputs, age-encrypted to the expert: only they can read what left.
        const e = new Encrypter();
        e.addRecipient(encryptTo);
        const zip = zipSync(Object.fromEntries(report.outputs.map((o) => [o.path, o.bytes])));
        download(`${this.#lastRun.bundle.name}-${this.#lastRun.bundle.version}-outputs.zip.age`, await e.encrypt(zip));
      } else {
        for (const o of report.outputs) download(o.path.replaceAll('/', '_'), o.bytes);
      }
      download('receipt.json', bytes, 'application/json');
      download('receipt.json.sig', signature, 'text/plain');
      for (const o of outputs)
        await appendAudit('output.exported', {
          path: o.path,
          sha256: o.sha256,
          gate: this.gate.pass ? 'passed' : 'overridden',
        });
      if (encryptTo) await appendAudit('output.encrypted', { to: encryptTo });
      this.approved = { key: this.#lastKey!, files: report.outputs.map((o) => ({ path: o.path, bytes: o.bytes })) };
      this.say(`Exported ${outputs.length} file(s) with a signed receipt.`);
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
    const room = await loadRoomKey();
    if (!room) return this.say('Create or restore the room key first.', 'error');
    try {
      // Python starts while the bundle is decrypted and checked: the run takes the notebook and
      // wheels when they are ready, and nothing of the owner's reaches the sandbox before that.
      const opened = openStoredBundle(key, room.key, prepareWheels);
      opened.catch(() => {});
      this.gate = null;
      const metas = await listTables();
      const load = () => Promise.all(Object.entries(mapping).map(([as, name]) => loadTable(name, as)));
      // The sandbox takes its copy of the tables (their buffers are transferred); the gate needs its own.
      const [tables, forGate] = await Promise.all([load(), load()]);
      const started = new Date().toISOString();
      const running = this.run.start({
        notebook: opened.then((b) => b.notebook),
        wheels: opened.then((b) => b.prepared.wheels),
        tables,
      });
      let b: Awaited<typeof opened>;
      try {
        b = await opened;
      } catch (e) {
        this.run.cancel();
        await running;
        throw e;
      }
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', b.manifestBytes as Uint8Array<ArrayBuffer>));
      this.#lastRun = {
        bundle: {
          name: b.manifest.name,
          version: b.manifest.version,
          signer: b.signer,
          manifestSha256: [...digest].map((x) => x.toString(16).padStart(2, '0')).join(''),
        },
        tables: Object.entries(mapping).map(([as, name]) => {
          const m = metas.find((t) => t.name === name)!;
          return { name, as, fingerprint: m.fingerprint, rows: m.rowCount };
        }),
        software: { airlock: __AIRLOCK_VERSION__, pyodide: __PYODIDE_VERSION__ },
        policy: { timeLimitSeconds: DEFAULT_LIMITS.timeLimitMs / 1000, maxOutputBytes: DEFAULT_LIMITS.maxOutputBytes },
        started,
        ended: started,
      };
      this.#lastKey = key;
      this.replyTo = b.manifest.author.recipient;
      await appendAudit('run.started', { bundle: key });
      const report = await running;
      this.#lastRun.ended = new Date().toISOString();
      await appendAudit('run.ended', {
        bundle: key,
        status: report.status,
        outputs: report.outputs.length,
        tripwires: report.tripwires.length,
      });
      if (report.status === 'ok') {
        this.gate = reviewOutputs(
          report.outputs,
          forGate,
          {
            maxOutputBytes: DEFAULT_LIMITS.maxOutputBytes,
            declared: b.manifest.outputs,
            // The review counts inside the run's time limit: it gets what the notebook left of it.
            deadline: performance.now() + DEFAULT_LIMITS.timeLimitMs - report.totalMs,
          },
          report.tripwires,
        );
      }
      await saveRun({
        bundle: { key, name: b.manifest.name, version: b.manifest.version, signer: b.signer },
        tables: mapping,
        started: this.#lastRun.started,
        ended: this.#lastRun.ended,
        status: report.status,
        message: report.message,
        logs: report.logs,
        outputs: report.outputs,
        ...(this.gate ? { gate: { pass: this.gate.pass, problems: this.gate.files.flatMap((f) => f.problems) } } : {}),
        tripwires: report.tripwires.map((t) => t.name),
      });
      this.runs = await listRuns();
    } catch (e) {
      this.fail(e);
    }
  }
}
