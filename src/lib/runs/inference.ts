/**
 * Inference: scoring a local table with an approved model, in a fresh sandbox with the bundle's
 * wheels. The model files and the request travel as read-only inputs (/airlock/input), never as
 * code: the one cell below is fixed, and reads what to call from request.json.
 */
import type { OutputFile } from '../sandbox/index.ts';

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
