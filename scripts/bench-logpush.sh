#!/usr/bin/env bash
# Benchmark, not a test: the peak memory of `occsimore serve` while PUSHES
# clients each POST one body of about SIZE_MB MB of sshd log lines to
# /v1/logs at once, as issue 12's probe did (16 pushes of 31 MB). A client
# answered 429 or 503 waits its Retry-After and sends again, until every
# push is accepted. Each server starts on a fresh SQLite data directory.
#
#   scripts/bench-logpush.sh                  # this tree
#   BASE=0f73913 scripts/bench-logpush.sh     # and a peer built from a commit
#
# It prints, per binary, the server's peak RSS (VmHWM) and its RSS before
# the pushes, the wall time until every push was answered, the refusals
# retried, and the pushes that failed otherwise (not retried).
#
# Environment: PUSHES (16), SIZE_MB (31), BASE (a commit to measure in the
# same run), DIR (work directory, default /tmp/occsimore-logpush).
set -euo pipefail
cd "$(dirname "$0")/.."

PUSHES=${PUSHES:-16}
SIZE_MB=${SIZE_MB:-31}
DIR=${DIR:-/tmp/occsimore-logpush}
PORT=18191
mkdir -p "$DIR/bin"
go build -o "$DIR/bin/occsimore" ./cmd/occsimore
bins=("$DIR/bin/occsimore")
if [[ -n ${BASE:-} ]]; then
	rm -rf "$DIR/base" && mkdir -p "$DIR/base"
	git archive "$BASE" | tar -x -C "$DIR/base"
	(cd "$DIR/base" && go build -o "$DIR/bin/occsimore-base" ./cmd/occsimore)
	bins+=("$DIR/bin/occsimore-base")
fi

body=$DIR/body.log
if [[ ! -s $body || $(stat -c %s "$body") -lt $((SIZE_MB * 1000000 - 200)) ]]; then
	: >"$body"
	i=0
	while [[ $(stat -c %s "$body") -lt $((SIZE_MB * 1000000 - 200)) ]]; do
		awk -v i="$i" 'BEGIN { for (k = 0; k < 20000; k++)
			printf "<38>Dec  7 01:%02d:%02d web-1 sshd[%d]: Failed password for invalid user u%d from 203.0.%d.%d port %d ssh2\n",
				k % 60, (k / 60) % 60, 1000 + k % 5000, i * 20000 + k, (k / 250) % 256, k % 250, 30000 + k % 30000 }' >>"$body"
		i=$((i + 1))
	done
	truncate -s $((SIZE_MB * 1000000)) "$body"
	printf '\n' >>"$body"
fi
echo "body: $(stat -c %s "$body") bytes, $(wc -l <"$body") lines; $PUSHES pushes at once; $(nproc) cores" >&2

rss() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

for bin in "${bins[@]}"; do
	data=$(mktemp -d "$DIR/data.XXXX")
	export OCCSIMORE_STORE_DATA_DIR=$data OCCSIMORE_SERVER_ADDR=127.0.0.1:$PORT OCCSIMORE_LOGS_GEOIP_DIR= OCCSIMORE_LOG_LEVEL=warn
	"$bin" member add --slug bank --name Bank --sector banking >/dev/null
	token=$("$bin" token create --member bank --name push --role ingest -o json | sed -n 's/.*"bearer": *"\([^"]*\)".*/\1/p')
	"$bin" serve 2>"$data/serve.log" &
	pid=$!
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
		sleep 0.1
	done
	before=$(rss "$pid" VmRSS)
	start=$(date +%s.%N)
	clients=()
	for n in $(seq "$PUSHES"); do
		(
			refused=0
			while :; do
				code=$(curl -s -o "$data/resp.$n" -D "$data/hdr.$n" -w '%{http_code}' -H "Authorization: Bearer $token" \
					--data-binary @"$body" "http://127.0.0.1:$PORT/v1/logs?host=web-$n")
				[[ $code == 200 ]] && break
				if [[ $code != 429 && $code != 503 ]]; then
					echo "push $n: status $code: $(head -c 300 "$data/resp.$n")" >&2
					echo "$code" >"$data/failed.$n"
					exit 0
				fi
				refused=$((refused + 1))
				sleep "$(awk 'tolower($1) == "retry-after:" { print $2 + 0 }' "$data/hdr.$n")"
			done
			echo "$refused" >"$data/refused.$n"
		) &
		clients+=($!)
	done
	for c in "${clients[@]}"; do wait "$c" || true; done
	end=$(date +%s.%N)
	peak=$(rss "$pid" VmHWM)
	kill "$pid" && wait "$pid" 2>/dev/null || true
	refusals=$(cat "$data"/refused.* 2>/dev/null | awk '{ s += $1 } END { print s + 0 }' || true)
	accepted=$(find "$data" -name 'refused.*' | wc -l)
	failed=$(find "$data" -name 'failed.*' | wc -l)
	printf '%s: RSS before %d MB, peak %d MB; %d of %d pushes accepted, %d failed, in %.1f s; %d refusals (429/503) retried\n' \
		"$(basename "$bin")" $((before / 1024)) $((peak / 1024)) "$accepted" "$PUSHES" "$failed" \
		"$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$refusals"
	rm -rf "$data"
	unset OCCSIMORE_STORE_DATA_DIR
done
