#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing:
# chromium (browser tests), postgresql (store contract tests) and
# crowdsec-custom-bouncer (CrowdSec's own bouncer against our decision API).
#
# The tests run the bouncer's binary themselves. Its package enables and
# starts a systemd service on install, which must not be left running on the
# machine that runs the tests: the install runs under a policy-rc.d that
# forbids starting services (one already there is kept), and the service is
# then disabled (and stopped where systemd runs), also when an earlier
# install left it enabled.
set -euo pipefail
bash "$(dirname "$0")/geoip.sh" # GeoIP databases for package geoip, from npm
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
bouncer_unit=crowdsec-custom-bouncer.service

# quiet_bouncer stops the bouncer's service and disables it if it is
# enabled. Without a running systemd (a container), systemctl --root=/
# removes the enablement links offline.
quiet_bouncer() {
	command -v systemctl >/dev/null 2>&1 || return 0
	if [ -d /run/systemd/system ]; then
		if systemctl --quiet is-active "$bouncer_unit" 2>/dev/null; then
			echo "deps.sh: stopping ${bouncer_unit}, which the tests do not use" >&2
			$sudo systemctl stop "$bouncer_unit" >&2 || true
		fi
		root=()
	else
		root=(--root=/)
	fi
	if systemctl "${root[@]}" --quiet is-enabled "$bouncer_unit" 2>/dev/null; then
		echo "deps.sh: disabling ${bouncer_unit}: the tests run the bouncer binary themselves" >&2
		$sudo systemctl "${root[@]}" disable "$bouncer_unit" >&2 || true
	fi
}

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	missing+=(postgresql)
fi
bouncer=0
[ -x /usr/bin/crowdsec-custom-bouncer ] || bouncer=1
if [ ${#missing[@]} -eq 0 ] && [ $bouncer -eq 0 ]; then
	quiet_bouncer
	echo "test dependencies present" >&2
	exit 0
fi
$sudo apt-get update -qq >&2
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing ${missing[*]} from Debian" >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
if [ $bouncer -eq 1 ]; then
	# Without its recommended crowdsec: the bouncer alone is what the test
	# runs, and crowdsec's own setup wants the network. A policy-rc.d that
	# answers 101 keeps the package's scripts from starting its service; one
	# already there (as in containers) is left as it is.
	echo "installing crowdsec-custom-bouncer from Debian, its service not started" >&2
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs packages\nexit 101\n' | $sudo tee "$policy" >/dev/null
		$sudo chmod 0755 "$policy"
		trap '$sudo rm -f "$policy"' EXIT
	fi
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends crowdsec-custom-bouncer >&2; then
		echo "deps.sh: crowdsec-custom-bouncer did not install; TestCrowdSecBouncer will skip and say so (CI=true fails on that)" >&2
	fi
	quiet_bouncer
fi
