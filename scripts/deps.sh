#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing:
# chromium (browser tests), postgresql (store contract tests) and
# crowdsec-custom-bouncer (CrowdSec's own bouncer against our decision API).
set -euo pipefail
bash "$(dirname "$0")/geoip.sh" # GeoIP databases for package geoip, from npm
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	missing+=(postgresql)
fi
bouncer=0
[ -x /usr/bin/crowdsec-custom-bouncer ] || bouncer=1
if [ ${#missing[@]} -eq 0 ] && [ $bouncer -eq 0 ]; then
	echo "test dependencies present" >&2
	exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq >&2
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing ${missing[*]} from Debian" >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
if [ $bouncer -eq 1 ]; then
	# Without its recommended crowdsec: the bouncer alone is what the test
	# runs, and crowdsec's own setup wants the network.
	echo "installing crowdsec-custom-bouncer from Debian" >&2
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends crowdsec-custom-bouncer >&2; then
		echo "deps.sh: crowdsec-custom-bouncer did not install; TestCrowdSecBouncer will skip and say so" >&2
	fi
fi
