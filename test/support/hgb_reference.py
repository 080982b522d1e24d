"""Independent reference for the tree family: scikit-learn's
HistGradientBoosting on the same rows, split and columns as a Tandem test.

Reads JSON on stdin: {"guest": path, "host": path, "train": [...], "test": [...],
"columns": "guest" | "all", "task": "binary" | "multiclass" | "regression",
"params": {...}} where train/test index the guest file's data rows in order
and the host file is joined by id. Prints {"auc" | "accuracy" | "r2": value}.
"""
import json
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score


def read(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    return header, rows


def main():
    spec = json.load(sys.stdin)
    gh, grows = read(spec["guest"])
    hh, hrows = read(spec["host"])
    label = gh.index("y")
    host_by_id = {r[0]: [float(v) for v in r[1:]] for r in hrows}
    gx = [[float(v) for i, v in enumerate(r) if i not in (0, label)] for r in grows]
    y = np.array([float(r[label]) for r in grows])
    x = np.array([g + host_by_id[r[0]] for g, r in zip(gx, grows)]) if spec["columns"] == "all" else np.array(gx)
    train, test = np.array(spec["train"]), np.array(spec["test"])
    p = spec["params"]
    common = dict(max_iter=p["rounds"], learning_rate=p["learningRate"], max_depth=p["maxDepth"], max_bins=p["maxBins"],
                  l2_regularization=p["lambda"], early_stopping=True, validation_fraction=0.1, n_iter_no_change=10,
                  max_leaf_nodes=None, min_samples_leaf=p.get("minSamplesLeaf", 20), random_state=0)
    task = spec["task"]
    if task == "regression":
        model = HistGradientBoostingRegressor(**common).fit(x[train], y[train])
        print(json.dumps({"r2": r2_score(y[test], model.predict(x[test]))}))
    else:
        model = HistGradientBoostingClassifier(**common).fit(x[train], y[train].astype(int))
        if task == "binary":
            print(json.dumps({"auc": roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])}))
        else:
            print(json.dumps({"accuracy": accuracy_score(y[test].astype(int), model.predict(x[test]))}))


main()
