/** The demo notebook: what an expert would write against the invitation's schema. */
export const DEMO_NOTEBOOK_CELLS = [
  `import airlock, readmit
t = airlock.table("encounters")
print(f"{len(t)} encounters, columns: {', '.join(t.columns)}")`,
  `features = ["age", "time_in_hospital", "num_medications", "number_inpatient"]
X = [list(t.column(c)) for c in features]
y = list(t.column("readmitted"))
split = int(len(y) * 0.8)
X_train, X_test = [c[:split] for c in X], [c[split:] for c in X]
scaled, stats = readmit.standardize(X_train)
print(f"training on {split} rows, testing on {len(y) - split}")`,
  `def report(epoch, total, loss):
    if epoch % 5 == 0:
        airlock.progress(epoch / total, f"epoch {epoch} of {total}", metrics={"loss": loss})

w = readmit.train(scaled, y[:split], epochs=120, on_epoch=report)
test_scaled = [[(v - m) / s for v in col] for col, (m, s) in zip(X_test, stats)]
score = readmit.auc(readmit.predict(w, test_scaled), y[split:])
print(f"held-out AUC: {score:.3f}")`,
  `with open(airlock.OUTPUT_DIR + "/model.json", "w") as f:
    f.write(readmit.to_json(w, features, stats, {"auc": round(score, 4), "rows": len(y)}))
print("wrote model.json")`,
];

export function demoNotebookJson(): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: DEMO_NOTEBOOK_CELLS.map((source) => ({
      cell_type: 'code',
      source,
      metadata: {},
      outputs: [],
      execution_count: null,
    })),
  });
}
