"""readmit: a small, pure-Python readmission-risk model (the demo's "private library").

Logistic regression by batch gradient descent on standardised features; no numpy needed.
"""

import json
import math

__version__ = "0.3.0"


def standardize(columns):
    """Returns (scaled columns, [(mean, std)]) for a list of numeric columns."""
    stats, scaled = [], []
    for col in columns:
        vals = [v for v in col if v == v]  # drop NaN
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals)) or 1.0
        stats.append((mean, std))
        scaled.append([0.0 if v != v else (v - mean) / std for v in col])
    return scaled, stats


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0


def train(features, labels, epochs=150, lr=0.5, on_epoch=None):
    """Fits weights (bias first) to 0/1 labels; `features` is a list of columns.

    `on_epoch(epoch, epochs, loss)` is called after each epoch with the mean log-loss of that epoch.
    """
    n, k = len(labels), len(features)
    rows = list(zip(*features))
    w = [0.0] * (k + 1)
    for epoch in range(epochs):
        grad = [0.0] * (k + 1)
        loss = 0.0
        for x, y in zip(rows, labels):
            p = _sigmoid(w[0] + sum(wi * xi for wi, xi in zip(w[1:], x)))
            err = p - y
            loss -= math.log(max(p, 1e-12)) if y else math.log(max(1.0 - p, 1e-12))
            grad[0] += err
            for j in range(k):
                grad[j + 1] += err * x[j]
        w = [wi - lr * g / n for wi, g in zip(w, grad)]
        if on_epoch:
            on_epoch(epoch + 1, epochs, loss / n)
    return w


def predict(w, features):
    return [_sigmoid(w[0] + sum(wi * xi for wi, xi in zip(w[1:], x))) for x in zip(*features)]


def auc(scores, labels):
    """Area under the ROC curve (rank statistic)."""
    pairs = sorted(zip(scores, labels))
    pos = sum(labels)
    neg = len(labels) - pos
    rank_sum, rank = 0.0, 0
    for _, y in pairs:
        rank += 1
        if y:
            rank_sum += rank
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg) if pos and neg else float("nan")


def to_json(w, names, stats, metrics):
    """The model artifact: weights and scaling only, no data."""
    return json.dumps(
        {
            "model": "logistic-regression",
            "library": f"readmit {__version__}",
            "features": [{"name": n, "mean": m, "std": s, "weight": wi} for n, (m, s), wi in zip(names, stats, w[1:])],
            "bias": w[0],
            "metrics": metrics,
        },
        indent=2,
    )
