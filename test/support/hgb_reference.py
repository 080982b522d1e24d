"""Independent reference for the tree family: scikit-learn's
HistGradientBoosting on the same rows, split and columns as a Tandem test
or benchmark.

Reads JSON on stdin, in one of two forms:

- {"guest": path, "host": path, ...}: the parties' CSV files (plain or .gz),
  where train/test index the guest file's data rows in order and the host
  file is joined by id;
- {"csv": path, "guestColumns": k, ...}: a pooled matrix already in the
  job's aligned order (bench/trees.ts writes it from examples/pooled-reference.ts
  `pooledData`): a header, then per row the label and every column, the
  guest's k first; train/test index its data rows. Missing values are `nan`.

Common fields: "train": [...], "test": [...], "task": "binary" | "multiclass" |
"regression", and either one run ("columns": "guest" | "all", "params": {...})
or several ("runs": [{"columns": ..., "params": ...}, ...]). "params" holds
Tandem's tree options (rounds, learningRate, maxDepth, maxBins, lambda), or is
null for scikit-learn's own defaults. Prints {"auc" | "accuracy" | "r2": value}
per run (a JSON list with "runs").
"""
import gzip
import json
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    return header, rows


def party_files(spec):
    """Guest and host files joined by id, in the guest file's row order."""
    gh, grows = read(spec["guest"])
    hh, hrows = read(spec["host"])
    label = gh.index("y")
    host_by_id = {r[0]: [float(v) for v in r[1:]] for r in hrows}
    gx = [[float(v) for i, v in enumerate(r) if i not in (0, label)] for r in grows]
    y = np.array([float(r[label]) for r in grows])
    x = np.array([g + host_by_id[r[0]] for g, r in zip(gx, grows)])
    return x, y, len(gx[0])


def pooled(spec):
    """The pooled matrix: label first, then the guest's columns, then the hosts'."""
    data = np.loadtxt(spec["csv"], delimiter=",", skiprows=1, ndmin=2)
    return data[:, 1:], data[:, 0], spec["guestColumns"]


def model_for(task, params):
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    if params is None:
        return cls(random_state=0)
    return cls(max_iter=params["rounds"], learning_rate=params["learningRate"], max_depth=params["maxDepth"], max_bins=params["maxBins"],
               l2_regularization=params["lambda"], early_stopping=True, validation_fraction=0.1, n_iter_no_change=10,
               max_leaf_nodes=None, min_samples_leaf=params.get("minSamplesLeaf", 20), random_state=0)


def score(task, x, y, train, test, params):
    model = model_for(task, params)
    if task == "regression":
        model.fit(x[train], y[train])
        return {"r2": r2_score(y[test], model.predict(x[test]))}
    model.fit(x[train], y[train].astype(int))
    if task == "binary":
        return {"auc": roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])}
    return {"accuracy": accuracy_score(y[test].astype(int), model.predict(x[test]))}


def main():
    spec = json.load(sys.stdin)
    x, y, guest_columns = pooled(spec) if "csv" in spec else party_files(spec)
    train, test = np.array(spec["train"]), np.array(spec["test"])
    runs = spec["runs"] if "runs" in spec else [{"columns": spec["columns"], "params": spec["params"]}]
    out = []
    for run in runs:
        cols = x if run["columns"] == "all" else x[:, :guest_columns]
        out.append(score(spec["task"], cols, y, train, test, run.get("params")))
    print(json.dumps(out if "runs" in spec else out[0]))


main()
