#!/usr/bin/env bash
# postgres.sh ensures a PostgreSQL server for the tests is running on
# 127.0.0.1 and prints the line to export its DSN:
#
#	eval "$(bash scripts/postgres.sh)"
#	go test -race ./postgres/...
#
# It is idempotent: a server already answering on the port is reused, an
# existing cluster is restarted, and Debian's postgresql package is installed
# only when no initdb/pg_ctl can be found. Only the export line goes to
# stdout; everything else goes to stderr.
#
# Environment: PGPORT (default 55432), OCCSIMORE_PG_DIR (default /tmp/occsimore-pg).
# The cluster trusts every local and loopback connection: it is for tests only.
#
# When it starts the cluster it leaves a marker, ${OCCSIMORE_PG_DIR}/started-by-test;
# `bash scripts/postgres.sh stop` stops the cluster only if that marker is
# there, so that a server someone else started is never stopped (scripts/test
# calls it when its last concurrent run ends).
set -euo pipefail

port="${PGPORT:-55432}"
dir="${OCCSIMORE_PG_DIR:-/tmp/occsimore-pg}"
host=127.0.0.1
dsn="postgres://postgres@${host}:${port}/postgres?sslmode=disable"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# find_bin sets bin to the directory holding initdb and pg_ctl, preferring
# PATH and then the newest Debian version under /usr/lib/postgresql.
find_bin() {
	bin=""
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		# Resolve symlinks such as /usr/local/bin/pg_ctl to the real bin dir,
		# where pg_isready lives too.
		bin="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
		return 0
	fi
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
			bin="$d"
			return 0
		fi
	done
	return 1
}

# answering reports whether a PostgreSQL server accepts connections on the port.
answering() {
	local isready=""
	if [[ -n "${bin:-}" && -x "$bin/pg_isready" ]]; then
		isready="$bin/pg_isready"
	elif command -v pg_isready >/dev/null 2>&1; then
		isready="$(command -v pg_isready)"
	fi
	if [[ -n "$isready" ]]; then
		"$isready" -q -h "$host" -p "$port" -U postgres
	else
		# Without client tools, an open TCP port is the best available sign.
		(exec 3<>"/dev/tcp/${host}/${port}") 2>/dev/null
	fi
}

as_root() {
	if [[ "$(id -u)" -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

# as_owner runs a command as the cluster's owner: postgres refuses to run as root.
as_owner() {
	if [[ "$(id -u)" -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

find_bin || true
marker="${dir}/started-by-test"

if [[ "${1:-}" == stop ]]; then
	if [[ ! -f "$marker" ]]; then
		log "no cluster started by the tests in ${dir}: leaving any server on ${host}:${port} alone"
		exit 0
	fi
	[[ -n "$bin" ]] || die "pg_ctl not found: cannot stop the cluster in ${dir}/data"
	if as_owner "$bin/pg_ctl" -D "${dir}/data" status >/dev/null 2>&1; then
		log "stopping the cluster the tests started in ${dir}/data"
		as_owner "$bin/pg_ctl" -D "${dir}/data" -m fast -w -t 60 stop >&2 ||
			die "pg_ctl stop failed; see ${dir}/postgres.log"
	fi
	rm -f "$marker"
	exit 0
elif [[ $# -gt 0 ]]; then
	die "usage: postgres.sh [stop]"
fi

if answering; then
	log "reusing the server already answering on ${host}:${port}"
	echo "export OCCSIMORE_TEST_POSTGRES_DSN='${dsn}'"
	exit 0
fi

if [[ -z "$bin" ]]; then
	log "initdb/pg_ctl not found: installing Debian's postgresql"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
	find_bin || die "postgresql installed but initdb/pg_ctl still not found"
fi
log "using ${bin}"

mkdir -p "$dir"
# Serialise concurrent runs of this script on the same cluster.
if command -v flock >/dev/null 2>&1; then
	exec 9>"${dir}/.lock"
	flock 9
	answering && { echo "export OCCSIMORE_TEST_POSTGRES_DSN='${dsn}'"; exit 0; }
fi

if [[ "$(id -u)" -eq 0 ]]; then
	id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /usr/sbin/nologin postgres
	chown -R postgres: "$dir"
fi
chmod 0700 "$dir"

data="${dir}/data"
sock="${dir}/sock"
if [[ ! -f "${data}/PG_VERSION" ]]; then
	log "creating a cluster in ${data}"
	as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale >&2
	# Trust, but only on the unix socket and loopback.
	as_owner tee "${data}/pg_hba.conf" >/dev/null <<-HBA
		local all all trust
		host  all all 127.0.0.1/32 trust
		host  all all ::1/128 trust
	HBA
	# A throwaway test cluster need not survive a crash: skip the fsyncs that
	# make CREATE DATABASE slow.
	as_owner tee -a "${data}/postgresql.conf" >/dev/null <<-CONF
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 200
	CONF
fi
as_owner mkdir -p "$sock"

if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
	die "the cluster in ${data} runs but does not answer on ${host}:${port}; stop it with: $bin/pg_ctl -D ${data} stop"
fi
log "starting on ${host}:${port}"
# The marker goes first: a start that half succeeds is still ours to stop.
date -u +%FT%TZ >"$marker"
as_owner "$bin/pg_ctl" -D "$data" -l "${dir}/postgres.log" -w -t 60 \
	-o "-c listen_addresses=${host} -p ${port} -k ${sock}" start >&2 ||
	die "pg_ctl start failed; see ${dir}/postgres.log"

for _ in $(seq 1 60); do
	if answering; then
		echo "export OCCSIMORE_TEST_POSTGRES_DSN='${dsn}'"
		exit 0
	fi
	sleep 1
done
die "server did not become ready on ${host}:${port}; see ${dir}/postgres.log"
