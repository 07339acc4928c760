/**
 * The owner's run of a bundle, written once: the Bundles tab, `window.airlock` (and through it
 * `airlock run`) all call {@link runBundle}, so the tests exercise what users run.
 *
 * Python starts while the bundle is decrypted and checked and its wheels are checked against their
 * RECORD; the tables the bundle reads are resolved and loaded meanwhile; nothing of the bundle or of
 * the owner's data reaches the sandbox before every check has passed. After the notebook, the
 * outputs pass the gate inside what is left of the run's time limit, and the result carries what the
 * receipt will say. What the gate needs of the tables (their indexes, the membership audit's sandbox
 * with its rows) is made while the notebook runs, so the review after it reads only the outputs.
 */
import { appendAudit } from '../audit/index.ts';
import { openBundle, openStoredBundle, type LaneOptions } from '../bundle/index.ts';
import { listTables, loadTable } from '../data/index.ts';
import {
  addGateCheck,
  gateProblems,
  membershipCheck,
  prepareReview,
  reviewOutputs,
  type GateReport,
} from '../gate/index.ts';
import type { ReceiptBody } from '../receipt/index.ts';
import { runNotebook, type PyodideAssets, type RunReport, type RunEvent, type SandboxTable } from '../sandbox/index.ts';
import { prepareWheels } from '../wheel/index.ts';
import { AIRLOCK_VERSION } from '../version.ts';
import { settledAudit, startAudit, type PendingAudit } from './audit.ts';
import { complement, heldRows, newSeed, subsetTable, type HoldoutRecord } from './holdout.ts';
import { saveRun } from './store.ts';

import type { RunPolicy } from '../policy/index.ts';

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
  /** The rows held back for the membership audit (the receipt records the same). */
  holdout?: HoldoutRecord;
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
    const { inference, label } = b.manifest;
    const share = input.room.policy.holdout;
    if (!(share > 0 && inference && label)) {
      const [mounted, forGate] = await Promise.all([load(), load()]);
      return { b, tables, mounted, forGate, seen: forGate };
    }
    // The membership audit's rows are held back from every table: the notebook gets the rest, in
    // new arrays that hold nothing of the held rows (holdout.ts).
    const full = await load();
    const seed = newSeed();
    const split = full.map((t) => {
      const held = heldRows(seed, t.name, t.rowCount, share);
      return { held, visible: complement(t.rowCount, held) };
    });
    const mounted = full.map((t, i) => subsetTable(t, split[i]!.visible, { heldOut: split[i]!.held.length }));
    const seen = full.map((t, i) => subsetTable(t, split[i]!.visible));
    const holdout: HoldoutRecord = {
      seed,
      share,
      tables: full.map((t, i) => ({ as: t.name, rows: t.rowCount, heldOut: split[i]!.held.length })),
    };
    return { b, tables, mounted, forGate: full, seen, split, holdout };
  })();
  plan.catch(() => {});

  const stop = new AbortController();
  const abort = () => stop.abort();
  input.signal?.addEventListener('abort', abort, { once: true });
  const policy = input.room.policy;
  const timeLimitMs = policy.timeLimitSeconds * 1000;
  const runStarted = performance.now();
  // The audit's sandbox starts once the notebook's Python is up: two start-ups at once slow both.
  let pythonUp!: () => void;
  const booted = new Promise<void>((r) => (pythonUp = r));
  const running = runNotebook({
    notebook: plan.then((p) => p.b.notebook),
    wheels: plan.then((p) => p.b.prepared.wheels),
    tables: plan.then((p) => p.mounted),
    limits: { timeLimitMs, maxOutputBytes: policy.maxOutputBytes },
    assets: input.assets,
    signal: stop.signal,
    onEvent: (e) => {
      if (e.type === 'cell' || (e.type === 'stage' && (e.stage === 'install wheels' || e.stage === 'mount tables')))
        pythonUp();
      input.onEvent?.(e);
    },
  });
  running.then(pythonUp, pythonUp);
  // Work for the gate done while the notebook runs; stopped once it is not needed.
  const ahead = new AbortController();
  stop.signal.addEventListener('abort', () => ahead.abort(), { once: true });
  let audit: Promise<PendingAudit> | undefined;
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
    const { b, tables, forGate, seen } = planned;
    // Started as soon as the plan is known, beside Python's start: however short the notebook,
    // the owner waits after it only for what needs its outputs. (Measured: docs/BENCHMARKS.md.)
    audit = booted.then(() =>
      ahead.signal.aborted
        ? settledAudit(membershipCheck({ notApplicable: 'the run ended' }, policy.maxMembershipAuc))
        : membership(input, planned, runStarted + timeLimitMs - performance.now(), ahead.signal),
    );
    audit.catch(() => {}); // (awaited below when there is a model; never left unhandled)
    const prepared = prepareReview(forGate, seen, ahead.signal).then(
      (p) => p.index,
      () => forGate,
    );
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
    // The review, and the membership audit after it, count inside the run's time limit: whatever
    // the notebook left of it.
    const deadline = performance.now() + timeLimitMs - report.totalMs;
    if (report.status !== 'ok') ahead.abort();
    // No model to audit: its sandbox (the held-back rows, a second Python) goes now, not after the review.
    if (!report.outputs.length)
      void audit.then(
        (a) => a.cancel(),
        () => {},
      );
    if (report.status === 'ok') {
      input.onEvent?.({ type: 'review' });
      // One task's pause, so a page shows "reviewing outputs" before the (synchronous) review starts.
      await new Promise((r) => setTimeout(r, 0));
    }
    const index = report.status === 'ok' ? await prepared : forGate;
    let gate =
      report.status === 'ok'
        ? reviewOutputs(
            report.outputs,
            index,
            {
              maxOutputBytes: policy.maxOutputBytes,
              declared: b.manifest.outputs,
              deadline,
              disclosure: {
                minCellCount: policy.minCellCount,
                dominance: policy.dominance,
                pRatio: policy.pRatio,
                maxParamsPerRow: policy.maxParamsPerRow,
                ...(b.manifest.aggregates ? { aggregates: b.manifest.aggregates } : {}),
                tables: seen,
              },
            },
            report.tripwires,
          )
        : null;
    if (gate)
      gate = addGateCheck(
        gate,
        report.outputs.length
          ? await (await audit).finish(report.outputs)
          : membershipCheck({ notApplicable: 'the run wrote no model to audit' }, policy.maxMembershipAuc),
      );
    const ended = new Date();
    const run: OwnerRun = {
      room: input.room.id,
      bundle,
      ...(b.manifest.author.recipient ? { replyTo: b.manifest.author.recipient } : {}),
      tables,
      report,
      gate,
      ...(planned.holdout ? { holdout: planned.holdout } : {}),
      receipt: {
        bundle: { name: bundle.name, version: bundle.version, manifestSha256: bundle.manifestSha256, signer: b.signer },
        tables,
        software: { ...SOFTWARE, pyodide: report.pyodideVersion ?? SOFTWARE.pyodide },
        policy: { ...policy },
        ...(planned.holdout ? { holdout: planned.holdout } : {}),
        started: started.toISOString(),
        ended: ended.toISOString(),
      },
    };
    if (input.record) await record(input.room.id, run);
    return { ok: true, ...run };
  } finally {
    void audit?.then(
      (a) => a.cancel(),
      () => {},
    );
    ahead.abort();
    // Whatever ended this (a throw included), the notebook's sandbox does not outlive it.
    stop.abort();
    input.signal?.removeEventListener('abort', abort);
  }
}

/**
 * The gate's membership row: the audit, started now beside the notebook when the bundle can be
 * audited and rows were held back; otherwise why not, in a sentence.
 * @param timeLimitMs what is left of the run's time limit
 */
function membership(
  input: OwnerRunInput,
  planned: {
    b: {
      manifest: { inference?: { module: string; function: string }; label?: { column: string; positive?: string } };
      wheels: Array<{ filename: string; bytes: Uint8Array }>;
    };
    forGate: SandboxTable[];
    split?: Array<{ held: Int32Array; visible: Int32Array }>;
    holdout?: HoldoutRecord;
  },
  timeLimitMs: number,
  signal: AbortSignal,
): PendingAudit {
  const policy = input.room.policy;
  const done = settledAudit;
  const { inference, label } = planned.b.manifest;
  if (!inference || !label)
    return done(
      membershipCheck(
        {
          notApplicable: `the bundle declares no ${inference ? 'label' : 'inference entry point'}, so the model's answers could not be audited`,
          suggestion:
            'ask the expert to seal with --inference module:function --label column so the model can be audited',
        },
        policy.maxMembershipAuc,
      ),
    );
  if (!(policy.holdout > 0))
    return done(
      membershipCheck({ notApplicable: "the room's policy holds no rows back (holdout 0)" }, policy.maxMembershipAuc),
    );
  const i = planned.forGate.findIndex((t) => t.columns.some((c) => c.name === label.column));
  if (i < 0)
    return done(
      membershipCheck(
        { error: `the bundle's label column "${label.column}" is in none of the tables it reads` },
        policy.maxMembershipAuc,
      ),
    );
  const split = planned.split?.[i];
  if (!split?.held.length)
    return done(
      membershipCheck(
        {
          notApplicable: `the table "${planned.forGate[i]!.name}" is too small to hold back enough rows to measure anything`,
        },
        policy.maxMembershipAuc,
      ),
    );
  return startAudit({
    seed: planned.holdout!.seed,
    table: planned.forGate[i]!,
    held: split.held,
    visible: split.visible,
    label,
    entry: inference,
    wheels: planned.b.wheels,
    assets: input.assets,
    timeLimitMs,
    maxOutputBytes: policy.maxOutputBytes,
    maxAuc: policy.maxMembershipAuc,
    signal,
    ...(input.onEvent ? { onEvent: input.onEvent } : {}),
  });
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
    ...(gate ? { gate: { pass: gate.pass, problems: gateProblems(gate) } } : {}),
    tripwires: report.tripwires.map((t) => t.name),
  });
}
