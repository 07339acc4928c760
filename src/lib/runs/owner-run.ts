/**
 * The owner's run of a bundle, written once: the Bundles tab, `window.airlock` (and through it
 * `airlock run`) all call {@link runBundle}, so the tests exercise what users run.
 *
 * Python starts while the bundle is decrypted and checked and its wheels are checked against their
 * RECORD; the tables the bundle reads are resolved and loaded meanwhile; nothing of the bundle or of
 * the owner's data reaches the sandbox before every check has passed. After the notebook, the
 * outputs pass the gate inside what is left of the run's time limit, and the result carries what the
 * receipt will say.
 */
import { appendAudit } from '../audit/index.ts';
import { openBundle, openStoredBundle, type LaneOptions } from '../bundle/index.ts';
import { listTables, loadTable } from '../data/index.ts';
import { reviewOutputs, type GateReport } from '../gate/index.ts';
import type { ReceiptBody } from '../receipt/index.ts';
import { runNotebook, type PyodideAssets, type RunReport, type RunEvent } from '../sandbox/index.ts';
import { prepareWheels } from '../wheel/index.ts';
import { AIRLOCK_VERSION } from '../version.ts';
import { saveRun } from './store.ts';

import type { RunPolicy } from './policy.ts';

/** The software that ran, as the receipt names it (the build's own version, from package.json). */
export const SOFTWARE = { airlock: AIRLOCK_VERSION, pyodide: __PYODIDE_VERSION__ } as const;

export interface OwnerRunInput {
  /**
   * The room it runs in: its key opens the bundle, its grants are the tables it may read, its
   * policy bounds the run (lib/rooms gives all three).
   */
  room: { id: string; identity: CryptoKey | string; grants: string[]; policy: RunPolicy };
  /**
   * A bundle in the store (by key), or sealed bytes from elsewhere; `expert` (a key or fingerprint)
   * or `experts` (the room's trusted fingerprints, when it has any) refuse any other signer.
   */
  bundle: { key: string } | { sealed: Uint8Array; expert?: string; experts?: string[] };
  /** Bundle table name → local table name. A table the bundle reads and the mapping omits is taken under its own name. */
  mapping: Record<string, string>;
  assets: PyodideAssets | Promise<PyodideAssets>;
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
  /** Keep the run in the owner's history and the audit log (the app does; a throwaway profile need not). */
  record?: boolean;
  /** Where the bundle is decrypted (the app's lanes); without, on this thread. */
  lanes?: LaneOptions['lanes'];
}

export type RefusalCode = 'bundle' | 'missing-table' | 'not-granted';

/** Why a run did not start; nothing of the bundle or the data reached a sandbox. */
export interface Refusal {
  code: RefusalCode;
  message: string;
}

export interface RunTable {
  name: string;
  as: string;
  fingerprint: string;
  rows: number;
}

export interface OwnerRun {
  /** The room it ran in. */
  room: string;
  bundle: { key?: string; name: string; version: string; signer: string; manifestSha256: string; outputs: string[] };
  /** The expert's own age recipient, if the bundle gives one (outputs may be encrypted to it). */
  replyTo?: string;
  tables: RunTable[];
  report: RunReport;
  /** The gate's review of the outputs; null when the notebook did not finish. */
  gate: GateReport | null;
  /** Everything the receipt says but the export's own part (outputs' hashes and the gate's verdict). */
  receipt: Omit<ReceiptBody, 'outputs' | 'gate'>;
}

export type OwnerRunResult = ({ ok: true } & OwnerRun) | { ok: false; refused: Refusal };

class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** Runs a bundle on the owner's tables. Never throws for anything the bundle or notebook does. */
export async function runBundle(input: OwnerRunInput): Promise<OwnerRunResult> {
  const started = new Date();
  const source = input.bundle;
  const opening =
    'key' in source
      ? openStoredBundle(source.key, input.room.identity, { prepareWheels, lanes: input.lanes })
      : openBundle(source.sealed, input.room.identity, {
          ...(source.expert ? { expert: source.expert } : {}),
          prepareWheels,
          lanes: input.lanes,
        });
  const plan = (async () => {
    let b: Awaited<typeof opening>;
    try {
      b = await opening;
    } catch (e) {
      throw new Refused({ code: 'bundle', message: (e as Error).message });
    }
    if ('sealed' in source && source.experts?.length && !source.experts.includes(b.signer)) {
      throw new Refused({
        code: 'bundle',
        message: `the bundle is signed by ${b.signer}, not by an expert this room trusts`,
      });
    }
    const metas = await listTables();
    const wanted = b.manifest.tables.length ? b.manifest.tables : Object.keys(input.mapping);
    const tables: RunTable[] = [];
    for (const as of wanted) {
      const name = input.mapping[as] ?? as;
      const meta = metas.find((m) => m.name === name);
      if (!meta) {
        throw new Refused({
          code: 'missing-table',
          message: `the bundle reads a table "${as}", and there is no local table "${name}" to give it`,
        });
      }
      if (!input.room.grants.includes(name)) {
        throw new Refused({
          code: 'not-granted',
          message: `the bundle reads a table "${as}", and the table "${name}" is not granted to this room; grant it to the room first (Tables tab)`,
        });
      }
      tables.push({ name, as, fingerprint: meta.fingerprint, rows: meta.rowCount });
    }
    // The sandbox takes its copy of the tables (their buffers are transferred); the gate needs its own.
    const load = () => Promise.all(tables.map((t) => loadTable(t.name, t.as)));
    const [mounted, forGate] = await Promise.all([load(), load()]);
    return { b, tables, mounted, forGate };
  })();
  plan.catch(() => {});

  const stop = new AbortController();
  const abort = () => stop.abort();
  input.signal?.addEventListener('abort', abort, { once: true });
  const policy = input.room.policy;
  const timeLimitMs = policy.timeLimitSeconds * 1000;
  const running = runNotebook({
    notebook: plan.then((p) => p.b.notebook),
    wheels: plan.then((p) => p.b.prepared.wheels),
    tables: plan.then((p) => p.mounted),
    limits: { timeLimitMs, maxOutputBytes: policy.maxOutputBytes },
    assets: input.assets,
    signal: stop.signal,
    ...(input.onEvent ? { onEvent: input.onEvent } : {}),
  });
  try {
    let planned: Awaited<typeof plan>;
    try {
      planned = await plan;
    } catch (e) {
      stop.abort();
      await running.catch(() => {});
      if (e instanceof Refused) return { ok: false, refused: e.refusal };
      throw e;
    }
    const { b, tables, forGate } = planned;
    const bundle = {
      ...('key' in source ? { key: source.key } : {}),
      name: b.manifest.name,
      version: b.manifest.version,
      signer: b.signer,
      manifestSha256: hex(
        new Uint8Array(await crypto.subtle.digest('SHA-256', b.manifestBytes as Uint8Array<ArrayBuffer>)),
      ),
      outputs: b.manifest.outputs,
    };
    if (input.record) await appendAudit('run.started', { bundle: `${bundle.name}@${bundle.version}` }, input.room.id);
    const report = await running;
    // The review counts inside the run's time limit: whatever the notebook left of it.
    if (report.status === 'ok') {
      input.onEvent?.({ type: 'review' });
      // One task's pause, so a page shows "reviewing outputs" before the (synchronous) review starts.
      await new Promise((r) => setTimeout(r, 0));
    }
    const gate =
      report.status === 'ok'
        ? reviewOutputs(
            report.outputs,
            forGate,
            {
              maxOutputBytes: policy.maxOutputBytes,
              declared: b.manifest.outputs,
              deadline: performance.now() + timeLimitMs - report.totalMs,
            },
            report.tripwires,
          )
        : null;
    const ended = new Date();
    const run: OwnerRun = {
      room: input.room.id,
      bundle,
      ...(b.manifest.author.recipient ? { replyTo: b.manifest.author.recipient } : {}),
      tables,
      report,
      gate,
      receipt: {
        bundle: { name: bundle.name, version: bundle.version, manifestSha256: bundle.manifestSha256, signer: b.signer },
        tables,
        software: { ...SOFTWARE, pyodide: report.pyodideVersion ?? SOFTWARE.pyodide },
        policy: { ...policy },
        started: started.toISOString(),
        ended: ended.toISOString(),
      },
    };
    if (input.record) await record(input.room.id, run);
    return { ok: true, ...run };
  } finally {
    input.signal?.removeEventListener('abort', abort);
  }
}

async function record(room: string, run: OwnerRun): Promise<void> {
  const { report, gate, bundle } = run;
  await appendAudit(
    'run.ended',
    {
      bundle: `${bundle.name}@${bundle.version}`,
      status: report.status,
      outputs: report.outputs.length,
      tripwires: report.tripwires.length,
    },
    room,
  );
  await saveRun({
    room,
    bundle: {
      key: bundle.key ?? `${bundle.name}@${bundle.version}`,
      name: bundle.name,
      version: bundle.version,
      signer: bundle.signer,
    },
    tables: Object.fromEntries(run.tables.map((t) => [t.as, t.name])),
    started: run.receipt.started,
    ended: run.receipt.ended,
    status: report.status,
    message: report.message,
    logs: report.logs,
    outputs: report.outputs,
    ...(gate ? { gate: { pass: gate.pass, problems: gate.files.flatMap((f) => f.problems) } } : {}),
    tripwires: report.tripwires.map((t) => t.name),
  });
}
