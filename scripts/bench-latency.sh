#!/usr/bin/env bash
# Peer benchmark, not a test: the latency of single-event POST /v1/events at a
# fixed rate, open loop, against `occsimore serve` on a fresh SQLite data
# directory (default configuration, log level warn: the journal is synced
# within 10ms; SERVER_ENV=OCCSIMORE_ENGINE_JOURNAL_SYNC_INTERVAL=0s syncs it
# before every answer). Two load generators, each a process of its own on
# loopback, take turns, each against a fresh server:
#   - `occsimore bench http`: latency from each request's scheduled start and
#     from its actual send, and how late the generator sent;
#   - vegeta (github.com/tsenart/vegeta, installed from the Go module proxy):
#     latency from the actual send, as it defines latency.
# Both send card.tx events over 5,000 cards and 800 terminals.
#
# The peer server, scripts/latency-floor, takes the same load from both
# generators in the same run: a Go HTTP server that reads the body and
# answers a fixed score, with nothing behind it. Its latency is the floor
# this machine and generator put under any server's. With FLOOR_SYNC=1 it is
# also measured appending and fdatasyncing each body before answering.
#
#   scripts/bench-latency.sh
#
# Each measurement follows WARMUP at the same rate, sent but not measured
# (connections open, the 5,000 cards get their profiles).
#
# Environment: RATE (2000), DURATION (10s), WARMUP (2s), RUNS (3), PIN (0: processes free on
# all cores; 1: server on the last core, generators on the others, with
# taskset), SERVER_ENV (extra environment for the server, e.g. "GOGC=off"),
# BIN (an occsimore binary to measure instead of building one), DIR (work
# directory, default /tmp/occsimore-latency), FLOOR (1: measure the peer
# server; 0: only occsimore), FLOOR_SYNC (0).
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-2000}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
RUNS=${RUNS:-3}
PIN=${PIN:-0}
FLOOR=${FLOOR:-1}
FLOOR_SYNC=${FLOOR_SYNC:-0}
DIR=${DIR:-/tmp/occsimore-latency}
PY=/usr/bin/python3
PORT=18189
mkdir -p "$DIR/bin"
if [[ -z ${BIN:-} ]]; then
	go build -o "$DIR/bin/occsimore" ./cmd/occsimore
	BIN=$DIR/bin/occsimore
fi
go build -o "$DIR/bin/latency-floor" ./scripts/latency-floor
[[ -x $DIR/bin/vegeta ]] || GOBIN=$DIR/bin go install github.com/tsenart/vegeta/v12@v12.13.0

SERVER_PIN=() CLIENT_PIN=()
if [[ $PIN == 1 ]]; then
	last=$(($(nproc) - 1))
	SERVER_PIN=(taskset -c "$last") CLIENT_PIN=(taskset -c "0-$((last - 1))")
fi

# port_free fails when something already answers on $PORT, which would
# otherwise be measured in place of the server just started.
port_free() {
	if curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz"; then
		echo "bench-latency: something already listens on 127.0.0.1:$PORT; stop it first" >&2
		exit 1
	fi
}

# start_server creates a fresh data directory with a member and an ingest
# token (in $TOKEN), and starts the server (in $PID).
start_server() {
	local data=$DIR/data
	port_free
	rm -rf "$data"
	export OCCSIMORE_STORE_DATA_DIR=$data OCCSIMORE_SERVER_ADDR=127.0.0.1:$PORT
	"$BIN" member add --slug bank --name Bank --sector banking >/dev/null
	TOKEN=$("$BIN" token create --member bank --name load --role ingest -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["bearer"])')
	env ${SERVER_ENV:-} "${SERVER_PIN[@]}" "$BIN" serve --log-level warn 2>"$DIR/serve.log" &
	PID=$!
	for _ in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
		sleep 0.1
	done
	sleep 1 # let start-up work (the console's dummy password hash) finish
}

stop_server() {
	kill -INT "$PID"
	wait "$PID" || true
}

# vegeta_targets writes one target per request of the warm-up (to
# warmup.ndjson) and of the measurement (to targets.ndjson), each with its
# own event, in time order across both.
vegeta_targets() {
	"$PY" - "$TOKEN" "$RATE" "$WARMUP" "$DURATION" "$PORT" "$DIR" <<'EOF'
import base64, datetime, json, sys
token, rate, warmup, duration, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
n_warm = int(rate * float(warmup.rstrip("s")))
n = n_warm + int(rate * float(duration.rstrip("s"))) + rate
t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=30)
files = [open(d + "/warmup.ndjson", "w"), open(d + "/targets.ndjson", "w")]
for i in range(n):
    t = (t0 + datetime.timedelta(seconds=i / rate)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = '{"kind":"card.tx","time":"%s","card":"c%d","terminal":"t%d","amount":%d.%02d,"country":"FR"}' % (
        t, i % 5000, i % 800, 10 + i % 90, i % 100)
    print(json.dumps({"method": "POST", "url": "http://127.0.0.1:%s/v1/events" % port,
                      "header": {"Authorization": ["Bearer " + token], "Content-Type": ["application/json"]},
                      "body": base64.b64encode(body.encode()).decode()}), file=files[i >= n_warm])
EOF
}

# start_floor starts the peer server with flags $@ (in $PID).
start_floor() {
	TOKEN=unused
	port_free
	"${SERVER_PIN[@]}" "$DIR/bin/latency-floor" -addr "127.0.0.1:$PORT" -dir "$DIR" "$@" &
	PID=$!
	for _ in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
		sleep 0.1
	done
}

# cpu_times prints the machine's CPU times (jiffies) from /proc/stat.
cpu_times() { head -1 /proc/stat | cut -d' ' -f3-; }

# steal prints the share of CPU time the hypervisor took (steal) and that
# was idle since the CPU times $1.
steal() {
	"$PY" -c 'import sys; a=[int(x) for x in sys.argv[1].split()]; b=[int(x) for x in sys.argv[2].split()]; d=[y-x for x,y in zip(a,b)]; t=sum(d) or 1; print("cpu: steal %.1f%% idle %.0f%%" % (100*d[7]/t, 100*d[3]/t))' "$1" "$(cpu_times)"
}

# measure_ours and measure_vegeta load the server started before them, as
# run $1 against server $2. Each line ends with the CPU time the hypervisor
# stole during it and its warm-up (a virtual machine's vCPU descheduled),
# which the tails follow.
measure_ours() {
	local load t0
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(cpu_times)
	"${CLIENT_PIN[@]}" "$BIN" bench http --no-progress --url "http://127.0.0.1:$PORT" --token "$TOKEN" --rate "$RATE" --warmup "$WARMUP" --duration "$DURATION" -o json |
		"$PY" -c 'import json,sys; r=json.load(sys.stdin); print("run %s %-18s occsimore bench http (load %s): from schedule p50 %.2f ms p99 %.2f ms p99.9 %.2f ms | from send p50 %.2f ms p99 %.2f ms p99.9 %.2f ms | sent late p99 %.2f ms | errors %d" % (sys.argv[1], sys.argv[2], sys.argv[3], r["p50_us"]/1e3, r["p99_us"]/1e3, r["p999_us"]/1e3, r["from_send_p50_us"]/1e3, r["from_send_p99_us"]/1e3, r["from_send_p999_us"]/1e3, r["send_lag_p99_us"]/1e3, r.get("errors", 0)), end=" | ")' "$1" "$2" "$load"
	steal "$t0"
}

measure_vegeta() {
	local load t0
	vegeta_targets
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(cpu_times)
	if [[ $WARMUP != 0s && $WARMUP != 0 ]]; then
		"${CLIENT_PIN[@]}" "$DIR/bin/vegeta" attack -rate "$RATE/s" -duration "$WARMUP" -format json -targets "$DIR/warmup.ndjson" >/dev/null
	fi
	"${CLIENT_PIN[@]}" "$DIR/bin/vegeta" attack -rate "$RATE/s" -duration "$DURATION" -format json -targets "$DIR/targets.ndjson" |
		"$DIR/bin/vegeta" report -type json |
		"$PY" -c 'import json,sys; r=json.load(sys.stdin); l=r["latencies"]; print("run %s %-18s vegeta              (load %s): from send p50 %.2f ms p90 %.2f ms p99 %.2f ms max %.2f ms | status %s" % (sys.argv[1], sys.argv[2], sys.argv[3], l["50th"]/1e6, l["90th"]/1e6, l["99th"]/1e6, l["max"]/1e6, r["status_codes"]), end=" | ")' "$1" "$2" "$load"
	steal "$t0"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); rate $RATE/s for $DURATION after $WARMUP; pinned: $PIN; server env: ${SERVER_ENV:-none}"
for run in $(seq "$RUNS"); do
	for gen in ours vegeta; do
		start_server
		"measure_$gen" "$run" occsimore
		stop_server
		if [[ $FLOOR == 1 ]]; then
			start_floor
			"measure_$gen" "$run" "peer floor"
			stop_server
		fi
		if [[ $FLOOR_SYNC == 1 ]]; then
			start_floor -sync
			"measure_$gen" "$run" "peer floor+fsync"
			stop_server
		fi
	done
done
