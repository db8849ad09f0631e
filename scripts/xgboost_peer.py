#!/usr/bin/python3
"""XGBoost hist peer for occsimore's GBDT (scripts/bench-xgboost.sh runs it).

Reads DIR/train.csv and DIR/test.csv as written by
`occsimore eval --export-features DIR` (a header, then label,features... with
"nan" for missing values), trains XGBoost's hist trees with the given shape
and threads, and prints one JSON object: AP and AUC on the test set, training
seconds (DMatrix construction, which sketches the quantiles, plus training),
and prediction rows/s (inplace_predict on the raw test matrix, best of REPS),
each also per CPU second of the process (all threads), which a shared
machine disturbs less than wall time.
Run it with Debian's /usr/bin/python3 and python3-xgboost, python3-sklearn.
"""
import argparse
import json
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import average_precision_score, roc_auc_score


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    return np.ascontiguousarray(data[:, 1:]), data[:, 0].astype(np.int32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--trees", type=int, default=300)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--max-bin", type=int, default=255)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()

    Xtr, ytr = load(a.dir + "/train.csv")
    Xte, yte = load(a.dir + "/test.csv")
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "nthread": a.threads,
        "max_depth": a.depth,
        "eta": a.lr,
        "max_bin": a.max_bin,
        "lambda": 1.0,
        "min_child_weight": 1.0,
        "gamma": 0.0,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "scale_pos_weight": 1.0,
        # occsimore starts from the log-odds of the base rate; XGBoost 1.7
        # defaults to 0.5.
        "base_score": float(ytr.mean()),
        "verbosity": 0,
    }
    t0, c0 = time.perf_counter(), time.process_time()
    dtrain = xgb.DMatrix(Xtr, label=ytr, missing=np.nan, nthread=a.threads)
    booster = xgb.train(params, dtrain, num_boost_round=a.trees)
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0

    best = best_cpu = float("inf")
    for _ in range(a.reps):
        t0, c0 = time.perf_counter(), time.process_time()
        p = booster.inplace_predict(Xte, missing=np.nan)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    print(json.dumps({
        "model": "xgboost " + xgb.__version__ + " hist",
        "threads": a.threads,
        "train_rows": int(Xtr.shape[0]),
        "test_rows": int(Xte.shape[0]),
        "features": int(Xtr.shape[1]),
        "trees": a.trees,
        "ap": float(average_precision_score(yte, p)),
        "auc": float(roc_auc_score(yte, p)),
        "train_seconds": train_s,
        "train_cpu_seconds": train_cpu,
        "predict_rows_per_second": Xte.shape[0] / best,
        "predict_rows_per_cpu_second": Xte.shape[0] / best_cpu,
    }))


if __name__ == "__main__":
    main()
