/**
 * The expert's side of the disclosure tests and benchmark: a wheel with three models of the real
 * diabetes data, each with its scoring function (called as function(table, model_dir), returning
 * one probability of readmission within 30 days per row), and the notebook cells that train them or
 * write a table of counts. Pure Python: the sandbox has no numpy.
 */
import { sealBundle, type SealInput } from '../../src/lib/bundle/index.ts';
import type { SshPrivateKey } from '../../src/lib/crypto/index.ts';
import { makeWheel, notebookJson } from './fixtures.ts';

/** The expert's package: a logistic regression, a lookup and k-NN, each with a scoring function. */
export const MODEL_PY = String.raw`
import json, math, os

NUMERIC = ["time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications",
           "number_outpatient", "number_emergency", "number_inpatient", "number_diagnoses"]
POSITIVE = "<30"


def labels(t):
    return [1 if v == POSITIVE else 0 for v in t.column("readmitted")]


def fit_logistic(t, epochs=1, rate=0.02, l2=1e-3):
    """Averaged stochastic gradient descent with an L2 penalty on the standardised counts: one pass over every row."""
    cols = [t.column(n) for n in NUMERIC]
    y = labels(t)
    n = len(y)
    means = [sum(c) / n for c in cols]
    sds = [math.sqrt(sum((v - m) ** 2 for v in c) / n) or 1.0 for c, m in zip(cols, means)]
    X = list(zip(*[[(v - m) / s for v in c] for c, m, s in zip(cols, means, sds)]))
    w = [0.0] * len(cols)
    b = 0.0
    # The last iterate of SGD wanders with the last rows it saw; the mean of the second half's iterates
    # (Polyak-Ruppert averaging, one in 16) does not.
    w_sum = [0.0] * len(cols)
    b_sum = 0.0
    taken = 0
    for epoch in range(epochs):
        for i, (x, yi) in enumerate(zip(X, y)):
            z = b + sum(wj * xj for wj, xj in zip(w, x))
            e = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) - yi
            w = [wj - rate * (e * xj + l2 * wj) for wj, xj in zip(w, x)]
            b -= rate * e
            if epoch == epochs - 1 and i >= n // 2 and i % 16 == 0:
                w_sum = [s + wj for s, wj in zip(w_sum, w)]
                b_sum += b
                taken += 1
    w = [s / taken for s in w_sum]
    b = b_sum / taken
    return {"kind": "logistic", "features": NUMERIC, "means": means, "sds": sds, "weights": w, "intercept": b}


def predict_logistic(table, model_dir):
    m = json.load(open(os.path.join(model_dir, "model.json")))
    cols = [table.column(n) for n in m["features"]]
    out = []
    for i in range(len(table)):
        z = m["intercept"] + sum(w * (c[i] - mu) / s for w, c, mu, s in zip(m["weights"], cols, m["means"], m["sds"]))
        out.append(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))))
    return out


LOOKUP_KEYS = NUMERIC + ["race", "gender", "age", "diag_1"]


def fit_lookup(t):
    """A "model" that memorises: the label's rate for every combination of twelve columns."""
    cols = [t.column(k) for k in LOOKUP_KEYS]
    y = labels(t)
    seen = {}
    for i, yi in enumerate(y):
        s = seen.setdefault("|".join(str(c[i]) for c in cols), [0, 0])
        s[0] += yi
        s[1] += 1
    return {"kind": "lookup", "base": sum(y) / len(y), "rate": {k: s[0] / s[1] for k, s in seen.items()}}


def predict_lookup(table, model_dir):
    m = json.load(open(os.path.join(model_dir, "model.json")))
    cols = [table.column(k) for k in LOOKUP_KEYS]
    return [m["rate"].get("|".join(str(c[i]) for c in cols), m["base"]) for i in range(len(table))]


def fit_knn(t, rows=1000):
    """k-nearest neighbours keeps its training rows: the first 1000 here."""
    cols = [t.column(n) for n in NUMERIC]
    y = labels(t)
    return {"kind": "knn", "features": NUMERIC, "X": [[c[i] for c in cols] for i in range(rows)], "y": y[:rows]}
`;
/** As the report suggests: suppress the counts under 10, round the others to the nearest 5. */
export const SAFE = '"" if n < 10 else 5 * round(n / 5)';

export const WHEEL = makeWheel('readmit', '1.0', { 'readmit/__init__.py': '', 'readmit/model.py': MODEL_PY });

/** A cell that trains with `model.<fit>` and saves the model as `file` (JSON). */
export const TRAIN = (fit: string, file = 'model.json') =>
  `import airlock, json\nfrom readmit import model\nt = airlock.table("ehr")\nprint(len(t), "rows,", t.held_out, "held back")\njson.dump(model.${fit}(t), open(airlock.OUTPUT_DIR + "/${file}", "w"))`;

/** A cell that writes counts by age × race × gender × readmission to `file`, each count `n` shown as `shown`. */
export const COUNTS = (shown: string, file = 'counts.csv') => `import airlock, collections, csv
t = airlock.table("ehr")
keys = ["age", "race", "gender", "readmitted"]
counts = collections.Counter(zip(*[t.column(k) for k in keys]))
with open(airlock.OUTPUT_DIR + "/${file}", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(keys + ["count"])
    for k, n in sorted(counts.items(), key=str):
        w.writerow(list(k) + [${shown}])`;

/**
 * After `TRAIN('fit_logistic')`: what else a legitimate model ships — the category names of the
 * text columns (as a one-hot encoder keeps them) and the weights as a float32 .npy, written byte by
 * byte as numpy.save does (the sandbox has no numpy).
 */
export const LOGISTIC_EXTRAS = `import airlock, array, json, struct
t = airlock.table("ehr")
cols = ["race", "gender", "age", "A1Cresult", "max_glu_serum", "medical_specialty"]
json.dump({c: sorted({v for v in t.column(c) if v is not None}) for c in cols},
          open(airlock.OUTPUT_DIR + "/categories.json", "w"))
m = json.load(open(airlock.OUTPUT_DIR + "/model.json"))
w = array.array("f", m["weights"] + [m["intercept"]])
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % len(w)
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\\n"
with open(airlock.OUTPUT_DIR + "/weights.npy", "wb") as f:
    f.write(b"\\x93NUMPY\\x01\\x00" + struct.pack("<H", len(header)) + header.encode() + w.tobytes())`;

/**
 * The expert's bundle of `cells` (in one notebook) with the package above, reading the table "ehr",
 * sealed to `recipient`; `extra` declares the rest (inference entry point, label, tables of results).
 */
export async function sealCells(
  recipient: string,
  signer: SshPrivateKey,
  cells: string[],
  outputs: string[],
  extra: Partial<Pick<SealInput, 'inference' | 'label' | 'aggregates' | 'name'>> = {},
): Promise<Uint8Array> {
  const { stream } = await sealBundle({
    recipient,
    signer,
    name: 'readmission',
    version: '1.0',
    notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode(notebookJson(cells)) },
    wheels: [WHEEL],
    outputs,
    tables: ['ehr'],
    ...extra,
  });
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
