#!/usr/bin/env bash
# Peer benchmark, not a test: occsimore's GBDT against XGBoost hist on the
# exact feature matrices `occsimore eval` trains and tests on, with the same
# threads, trees, depth, learning rate and bins. Prints AP, AUC, training time
# and prediction rows/s for both, run after run (the two alternate so that
# load on a shared machine hits both alike), then the medians.
#
#   scripts/bench-xgboost.sh [HANDBOOK_CSV]
#
# Environment: THREADS (default nproc), TREES (300), DEPTH (6), LR (0.05),
# RUNS (3), DIR (where the features go; default /tmp/occsimore-peer, reused if
# it holds train.csv and test.csv; FRESH=1 rebuilds it).
# Needs Debian's python3-xgboost and python3-sklearn under /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/.."

FILE=${1:-../shared/data/handbook/transactions_raw.csv.gz}
THREADS=${THREADS:-$(nproc)}
TREES=${TREES:-300}
DEPTH=${DEPTH:-6}
LR=${LR:-0.05}
RUNS=${RUNS:-3}
DIR=${DIR:-/tmp/occsimore-peer}
PY=/usr/bin/python3

if ! "$PY" -c 'import xgboost, sklearn' 2>/dev/null; then
	echo "bench-xgboost: $PY lacks xgboost or sklearn: apt-get install python3-xgboost python3-sklearn" >&2
	exit 1
fi
mkdir -p "$DIR"
if [[ ${FRESH:-0} == 1 || ! -s $DIR/train.csv || ! -s $DIR/test.csv ]]; then
	go build -o "$DIR/occsimore" ./cmd/occsimore
	"$DIR/occsimore" eval --no-progress --export-features "$DIR" "$FILE" >/dev/null
fi
go test -c -o "$DIR/model.test" ./model/

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "features: $(head -1 "$DIR/train.csv" | tr ',' '\n' | tail -n +2 | wc -l); train rows $(($(wc -l <"$DIR/train.csv") - 1)); test rows $(($(wc -l <"$DIR/test.csv") - 1))"
echo "shape: $TREES trees, depth $DEPTH, learning rate $LR, 255 bins, lambda 1, min child weight 1, threads $THREADS"

out=$DIR/runs.jsonl
: >"$out"
for run in $(seq "$RUNS"); do
	OCCSIMORE_PEER_DIR=$DIR PEER_THREADS=$THREADS PEER_TREES=$TREES PEER_DEPTH=$DEPTH PEER_LR=$LR \
		"$DIR/model.test" -test.run '^$' -test.bench '^BenchmarkPeerXGBoost$' -test.benchtime 1x -test.cpu "$THREADS" |
		"$PY" -c '
import json, re, sys
for line in sys.stdin:
    if line.startswith("BenchmarkPeerXGBoost"):
        f = line.split()
        m = {f[i + 1]: float(f[i]) for i in range(4, len(f) - 1, 2)}
        print(json.dumps({"model": "occsimore gbdt", "run": int(sys.argv[1]), "ap": m["AP"], "auc": m["AUC"],
            "train_seconds": m["train-s"], "train_cpu_seconds": m["train-cpu-s"],
            "predict_rows_per_second": m["predict-rows/s"], "predict_rows_per_cpu_second": m["predict-rows/cpu-s"]}))
' "$run" >>"$out"
	"$PY" scripts/xgboost_peer.py "$DIR" --threads "$THREADS" --trees "$TREES" --depth "$DEPTH" --lr "$LR" |
		"$PY" -c 'import json, sys; d = json.load(sys.stdin); d["run"] = int(sys.argv[1]); print(json.dumps(d))' "$run" >>"$out"
done

"$PY" - "$out" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cols = ["ap", "auc", "train_seconds", "train_cpu_seconds", "predict_rows_per_second", "predict_rows_per_cpu_second"]
fmt = "{:<22} {:>4} {:>7} {:>7} {:>9} {:>9} {:>12} {:>12}"
print(fmt.format("model", "run", "AP", "AUC", "train s", "train cpu", "predict r/s", "pred r/cpu-s"))
for r in rows:
    print(fmt.format(r["model"][:22], r["run"], *("%.4f" % r["ap"], "%.4f" % r["auc"], "%.2f" % r["train_seconds"],
          "%.2f" % r["train_cpu_seconds"], "%.0f" % r["predict_rows_per_second"], "%.0f" % r["predict_rows_per_cpu_second"])))
med = {}
for name in dict.fromkeys(r["model"] for r in rows):
    med[name] = {c: statistics.median(r[c] for r in rows if r["model"] == name) for c in cols}
    m = med[name]
    print(fmt.format(name[:22], "med", "%.4f" % m["ap"], "%.4f" % m["auc"], "%.2f" % m["train_seconds"],
          "%.2f" % m["train_cpu_seconds"], "%.0f" % m["predict_rows_per_second"], "%.0f" % m["predict_rows_per_cpu_second"]))
ours = med.pop("occsimore gbdt")
peer = next(iter(med.values()))
def check(name, ok, detail):
    print("%-44s %s  (%s)" % (name, "holds" if ok else "DOES NOT HOLD", detail))
check("AP within 0.01 of XGBoost", abs(ours["ap"] - peer["ap"]) <= 0.01, "%.4f vs %.4f" % (ours["ap"], peer["ap"]))
check("training time <= 2x XGBoost (wall)", ours["train_seconds"] <= 2 * peer["train_seconds"],
      "%.2fx" % (ours["train_seconds"] / peer["train_seconds"]))
check("training time <= 2x XGBoost (CPU)", ours["train_cpu_seconds"] <= 2 * peer["train_cpu_seconds"],
      "%.2fx" % (ours["train_cpu_seconds"] / peer["train_cpu_seconds"]))
check("prediction rows/s >= XGBoost (wall)", ours["predict_rows_per_second"] >= peer["predict_rows_per_second"],
      "%.2fx" % (ours["predict_rows_per_second"] / peer["predict_rows_per_second"]))
check("prediction rows/s >= XGBoost (CPU)", ours["predict_rows_per_cpu_second"] >= peer["predict_rows_per_cpu_second"],
      "%.2fx" % (ours["predict_rows_per_cpu_second"] / peer["predict_rows_per_cpu_second"]))
PYEOF
