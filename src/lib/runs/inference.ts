/**
 * Inference: scoring a local table with an approved model, in a fresh sandbox with the bundle's
 * wheels. The model files and the request travel as read-only inputs (/airlock/input), never as
 * code: the one cell below is fixed, and reads what to call from request.json.
 */
import { appendAudit } from '../audit/index.ts';
import { openStoredBundle, type LaneOptions } from '../bundle/index.ts';
import { loadTable } from '../data/index.ts';
import { runNotebook, type OutputFile, type PyodideAssets, type RunReport, type RunEvent } from '../sandbox/index.ts';
import type { RunPolicy } from '../policy/index.ts';

export const INFERENCE_CELL = `import airlock, csv, importlib, json
req = json.load(open(airlock.INPUT_DIR + "/request.json"))
fn = getattr(importlib.import_module(req["module"]), req["function"])
t = airlock.table(req["table"])
scores = list(fn(t, airlock.INPUT_DIR + "/model"))
if len(scores) != len(t):
    raise ValueError(f"{req['module']}.{req['function']} returned {len(scores)} scores for {len(t)} rows")
with open(airlock.OUTPUT_DIR + "/scores.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["row", "score"])
    for i, s in enumerate(scores):
        w.writerow([i, s])
print(f"scored {len(t)} rows")`;

/** The notebook and inputs of a scoring run. */
export function inferenceRun(
  entry: { module: string; function: string },
  table: string,
  model: OutputFile[],
): { notebook: string; inputs: OutputFile[] } {
  const notebook = JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{ cell_type: 'code', source: INFERENCE_CELL, metadata: {}, outputs: [], execution_count: null }],
  });
  const request = new TextEncoder().encode(JSON.stringify({ module: entry.module, function: entry.function, table }));
  return {
    notebook,
    inputs: [
      { path: 'request.json', bytes: request },
      ...model.map((m) => ({ path: `model/${m.path}`, bytes: m.bytes })),
    ],
  };
}

/**
 * Scores a local table with an approved model: the bundle is opened again (signature and hashes
 * checked), and its inference entry point runs in a fresh sandbox on the table and the model files.
 * The scores stay in the browser unless the owner downloads them.
 * @returns a refusal (nothing ran) or the run's report, whose `scores.csv` output holds the scores
 */
export async function scoreTable(input: {
  room: { id: string; identity: CryptoKey | string; grants: string[]; policy: RunPolicy };
  bundleKey: string;
  model: OutputFile[];
  table: string;
  assets: PyodideAssets | Promise<PyodideAssets>;
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
  /** Where the bundle is decrypted (the app's lanes). */
  lanes?: LaneOptions['lanes'];
}): Promise<{ ok: false; refused: string } | { ok: true; report: RunReport }> {
  if (!input.room.grants.includes(input.table)) {
    return {
      ok: false,
      refused: `the table "${input.table}" is not granted to this room; grant it to the room first (Tables tab)`,
    };
  }
  const b = await openStoredBundle(input.bundleKey, input.room.identity, { lanes: input.lanes });
  if (!b.manifest.inference) return { ok: false, refused: 'this bundle declares no inference entry point' };
  const { notebook, inputs } = inferenceRun(b.manifest.inference, input.table, input.model);
  await appendAudit('inference.started', { bundle: input.bundleKey, table: input.table }, input.room.id);
  const report = await runNotebook({
    notebook,
    inputs,
    wheels: b.wheels.map((w) => ({ filename: w.filename, bytes: w.bytes })),
    tables: [await loadTable(input.table)],
    limits: {
      timeLimitMs: input.room.policy.timeLimitSeconds * 1000,
      maxOutputBytes: input.room.policy.maxOutputBytes,
    },
    assets: input.assets,
    ...(input.onEvent ? { onEvent: input.onEvent } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  await appendAudit(
    'inference.ended',
    { bundle: input.bundleKey, table: input.table, status: report.status },
    input.room.id,
  );
  return { ok: true, report };
}
