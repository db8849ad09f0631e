#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing:
# chromium (browser tests), postgresql (store contract tests) and
# crowdsec-custom-bouncer (CrowdSec's own bouncer against our decision API).
set -euo pipefail
bash "$(dirname "$0")/geoip.sh" # GeoIP databases for package geoip, from npm
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/crowdsec-custom-bouncer ] || missing+=(crowdsec-custom-bouncer)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	missing+=(postgresql)
fi
if [ ${#missing[@]} -eq 0 ]; then
	echo "test dependencies present" >&2
	exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]} from Debian" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
