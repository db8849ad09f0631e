#!/usr/bin/env bash
# Soak benchmark of issue 12, not a test. On a fresh `occsimore serve`
# (SQLite data directory in a temporary directory, syslog TCP on loopback,
# log level warn), for SOAK_SECONDS at once (scripts/soak/main.go drives all
# but member C):
#   - members A and B each ingest NDJSON batches (POST /v1/events:batch) of
#     BATCH card.tx events at RATE events/s, 1,000 cards each; every event
#     the server answers as scored is counted per card;
#   - 20 console users (two of A, two of B, two of each of 8 other members)
#     sign in 5 times each from addresses of their own (100 sessions) and
#     try 5 alert streams per session: 500 streams, never read, against
#     the caps per session (4), member (32) and server (256);
#   - a sign-in flood: FLOOD_RATE made-up emails per second from 1,000
#     addresses 127.0.2.1-127.0.5.250, one in ten guessing a real user's
#     password instead, while that user signs in every 45 s from their own
#     address, in a browser that keeps the device cookie its first sign-in,
#     before the flood, got;
#   - 300 idle syslog TCP connections from 15 addresses (20 each, against
#     the per-address cap of 16), each reopened when the idle timeout closes
#     it, beside a real sender of one sshd line every 5 s;
#   - member C sends single events (POST /v1/events) at C_RATE/s with
#     `occsimore bench http`, its own process, which measures the latency.
# Before the soak, C alone at the same rate for QUIET_SECONDS is the quiet
# baseline, on the same server. After it, the server is killed (kill -9),
# started again, and every card's event count (GET /v1/entities/card/{id})
# is compared with the events acknowledged on it. RSS (VmRSS) is sampled
# every 5 s.
#
#   scripts/soak.sh                      # the 10-minute soak
#   SOAK_SECONDS=60 QUIET_SECONDS=20 scripts/soak.sh   # a short try
#
# Environment: SOAK_SECONDS (600), QUIET_SECONDS (90), C_RATE (20), RATE
# (400), BATCH (200), FLOOD_RATE (100), PORT (18193), SYSLOG_PORT (18194),
# KEEP (1: keep the temporary directory for inspection).
# Everything started is stopped on exit, and the temporary directory removed.
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK_SECONDS=${SOAK_SECONDS:-600}
QUIET_SECONDS=${QUIET_SECONDS:-90}
C_RATE=${C_RATE:-20}
RATE=${RATE:-400}
BATCH=${BATCH:-200}
FLOOD_RATE=${FLOOD_RATE:-100}
PORT=${PORT:-18193}
SYSLOG_PORT=${SYSLOG_PORT:-18194}
PY=/usr/bin/python3
URL=http://127.0.0.1:$PORT

DIR=$(mktemp -d /tmp/occsimore-soak.XXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [[ ${KEEP:-0} == 1 ]]; then
		echo "soak: kept $DIR" >&2
	else
		rm -rf "$DIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if curl -fs -o /dev/null "$URL/healthz"; then
	echo "soak: something already listens on $URL; stop it first" >&2
	exit 1
fi

mkdir -p "$DIR/bin"
go build -o "$DIR/bin/occsimore" ./cmd/occsimore
go build -o "$DIR/bin/soak" ./scripts/soak
BIN=$DIR/bin/occsimore

export OCCSIMORE_STORE_DATA_DIR=$DIR/data OCCSIMORE_SERVER_ADDR=127.0.0.1:$PORT OCCSIMORE_LOGS_GEOIP_DIR= \
	OCCSIMORE_LOG_LEVEL=warn OCCSIMORE_LOGS_SYSLOG_TCP=127.0.0.1:$SYSLOG_PORT OCCSIMORE_LOGS_SYSLOG_MEMBER=logs-d

# token SLUG ROLE prints a new token's bearer secret.
token() {
	"$BIN" token create --member "$1" --name "soak-$2" --role "$2" -o json |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)["bearer"])'
}

echo "soak: setting up members, tokens and users in $DIR" >&2
stream_members=(ing-a ing-b st-1 st-2 st-3 st-4 st-5 st-6 st-7 st-8)
for m in "${stream_members[@]}" probe-c logs-d; do
	"$BIN" member add --slug "$m" --name "Soak $m" --sector other >/dev/null
done
TOKEN_A=$(token ing-a ingest) TOKEN_B=$(token ing-b ingest) TOKEN_C=$(token probe-c ingest)
READ_A=$(token ing-a reader) READ_B=$(token ing-b reader)
# One password for every user, random, kept in a file (never on a command line).
"$PY" -c 'import secrets; print("soak " + secrets.token_urlsafe(18))' >"$DIR/password"
users=()
for m in "${stream_members[@]}"; do
	for u in 1 2; do
		"$BIN" user add --member "$m" --email "u$u@$m.example" --name "User $u" --role reader --password-stdin <"$DIR/password" >/dev/null
		users+=("u$u@$m.example")
	done
done
"$BIN" user add --member probe-c --email owner@probe-c.example --name Owner --role analyst --password-stdin <"$DIR/password" >/dev/null

"$BIN" serve 2>"$DIR/serve.log" &
SERVER=$!
PIDS+=("$SERVER")
wait_up() {
	for _ in $(seq 150); do
		curl -fs -o /dev/null "$URL/healthz" && return 0
		sleep 0.2
	done
	echo "soak: the server did not start; its log:" >&2
	tail -20 "$DIR/serve.log" >&2
	exit 1
}
wait_up
sleep 1

load1() { cut -d' ' -f1-3 /proc/loadavg; }
rss_mb() { awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load before: $(load1)"
echo "quiet: member C alone, $C_RATE events/s for ${QUIET_SECONDS}s (RSS $(rss_mb "$SERVER") MB)"
"$BIN" bench http --no-progress --url "$URL" --token "$TOKEN_C" --rate "$C_RATE" --warmup 5s --duration "${QUIET_SECONDS}s" -o json >"$DIR/quiet.json"
echo "quiet done (load $(load1), RSS $(rss_mb "$SERVER") MB)"

echo "soak: ${SOAK_SECONDS}s of everything at once"
"$DIR/bin/soak" -url "$URL" -syslog "127.0.0.1:$SYSLOG_PORT" -duration "${SOAK_SECONDS}s" \
	-ingest "ing-a=$TOKEN_A,ing-b=$TOKEN_B" -rate "$RATE" -batch "$BATCH" \
	-users "$(
		IFS=,
		echo "${users[*]}"
	)" -password-file "$DIR/password" -victim owner@probe-c.example -flood-rate "$FLOOD_RATE" \
	-pid "$SERVER" -acked "$DIR/acked.json" >"$DIR/soak.json" 2>"$DIR/soak.err" &
DRIVER=$!
PIDS+=("$DRIVER")
# C starts with the rest; its first 10 s are not measured, and it ends
# before the driver does.
"$BIN" bench http --no-progress --url "$URL" --token "$TOKEN_C" --rate "$C_RATE" --warmup 10s --duration "$((SOAK_SECONDS - 15))s" -o json >"$DIR/loud.json" &
PROBE=$!
PIDS+=("$PROBE")
while kill -0 "$DRIVER" 2>/dev/null; do
	sleep 30
	kill -0 "$DRIVER" 2>/dev/null && echo "  $(date -u +%T) load $(load1), RSS $(rss_mb "$SERVER") MB" >&2
done
wait "$PROBE"
wait "$DRIVER" || {
	echo "soak: the driver failed:" >&2
	cat "$DIR/soak.err" >&2
	exit 1
}
echo "soak done (load $(load1))"

echo "restart: kill -9, start again, compare acknowledged events per card"
kill -9 "$SERVER"
wait "$SERVER" 2>/dev/null || true
"$BIN" serve 2>>"$DIR/serve.log" &
SERVER=$!
PIDS+=("$SERVER")
wait_up
"$DIR/bin/soak" -verify -url "$URL" -readers "ing-a=$READ_A,ing-b=$READ_B" -acked "$DIR/acked.json" >"$DIR/verify.json" || true

"$PY" - "$DIR" <<'EOF'
import json, sys
d = sys.argv[1]
q, l, s, v = (json.load(open(f"{d}/{n}.json")) for n in ("quiet", "loud", "soak", "verify"))
ms = lambda r, k: r[k] / 1e3
print("member C single events (latency from schedule, ms):")
for name, r in (("quiet", q), ("soak", l)):
    print(f"  {name:5s} {r['events']:6d} events, {r.get('errors', 0)} errors: p50 {ms(r, 'p50_us'):.2f}  p99 {ms(r, 'p99_us'):.2f}  p99.9 {ms(r, 'p999_us'):.2f}  max {ms(r, 'max_us'):.2f} | from send p99 {ms(r, 'from_send_p99_us'):.2f}")
ratio = l["p99_us"] / q["p99_us"]
print(f"  p99 soak/quiet = {ratio:.2f} (criterion: at most 2) -> {'PASS' if ratio <= 2 else 'FAIL'}")
for i in s["ingest"]:
    print(f"ingest {i['member']}: {i['batches']} batches, {i['sent']} sent, {i['acked']} acknowledged, {i['rejected']} rejected, status {i['status']}, batch p50 {i['batch_p50_ms']:.1f} ms p99 {i['batch_p99_ms']:.1f} ms max {i['batch_max_ms']:.1f} ms, late ticks {i['late_ticks']}")
st = s["streams"]
print(f"streams: {st['sign_ins']} sign-ins in {st['opened_after_s']:.0f} s ({st['sign_in_failed']} failed, {st.get('sign_in_retries', 0)} retries after 429), {st['attempts']} attempts, {st['accepted']} accepted, refused {st['refused']}, other {st.get('other_status', {})}; at the end {st['open_at_end']} open, {st['closed_by_server']} closed by the server, {st['bytes_unread']} bytes unread")
f = s["flood"]
print(f"flood: {f['attempts']} sign-ins, status {f['status']}; {f['victim_guesses']} guesses at the real user, status {f['victim_status']}; the user's own sign-ins {f['owner_succeeded']}/{f['owner_sign_ins']} ok {f['owner_status']}, slowest {f['owner_max_ms']:.0f} ms (device cookie from a first sign-in before the flood, in {f.get('owner_first_tries')} tries: {f.get('owner_first_device')})")
y = s["syslog"]
print(f"syslog: {y['attempts']} idle connections tried, {y['accepted']} accepted, {y['refused']} refused, {y['closed_idle']} closed idle after {y['idle_close_min_s']:.0f}-{y['idle_close_max_s']:.0f} s, at most {y['max_open']} open at once; real sender {y['real_lines_sent']} lines sent, {y['real_lines_failed']} failed")
r = s["rss"]
print(f"RSS: {r['samples']} samples, start {r['start_mb']:.0f} MB, max {r['max_mb']:.0f} MB, end {r['end_mb']:.0f} MB, peak (VmHWM) {r['hwm_mb']:.0f} MB; max per minute {[round(x) for x in r['max_mb_per_minute']]}")
if s.get("errors"):
    print(f"driver errors: {s['errors']}")
print(f"after kill -9 and restart: lost {v['lost']} acknowledged events -> {'PASS' if v['lost'] == 0 else 'FAIL'}")
for m in v["members"]:
    print(f"  {m['member']}: {m['cards']} cards, {m['acked']} acknowledged, server counts {m['server_events']}; {m['cards_short']} cards short, {m['cards_missing']} missing, lost {m['lost']}, unacknowledged extra {m['extra']}")
EOF
echo "load after: $(load1)"
