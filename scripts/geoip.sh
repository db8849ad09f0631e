#!/usr/bin/env bash
# geoip.sh fetches the databases that package geoip reads, from npm, into
# data/geoip (or the directory given as argument or in OCCSIMORE_GEOIP_DIR):
#
#	geo-whois-asn-country.mmdb  from @ip-location-db/geo-whois-asn-country-mmdb (CC0)
#	asn-ipv4.csv, asn-ipv6.csv  from @ip-location-db/asn (CC BY 4.0: RouteViews,
#	                            DB-IP, NRO; their license files are copied too)
#
# It is idempotent: when the files are present it does nothing. The version is
# pinned so that tests see the same data everywhere; GEOIP_VERSION overrides it.
# npm checks each tarball against the registry's integrity hash. Messages go
# to stderr. The databases are never committed.
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${1:-${OCCSIMORE_GEOIP_DIR:-data/geoip}}"
version="${GEOIP_VERSION:-2.3.2026061719}"
files=(geo-whois-asn-country.mmdb asn-ipv4.csv asn-ipv6.csv)

log() { printf 'geoip.sh: %s\n' "$*" >&2; }

missing=0
for f in "${files[@]}"; do
	[ -s "$dir/$f" ] || missing=1
done
if [ "$missing" -eq 0 ]; then
	log "databases present in $dir"
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	log "installing npm from Debian"
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq npm >&2
fi

mkdir -p "$dir"
# Unpack beside the destination so the final mv is an atomic rename: an
# interrupted run never leaves a half-written database behind.
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

log "fetching ip-location-db $version into $dir"
(cd "$tmp" && npm pack --silent \
	"@ip-location-db/geo-whois-asn-country-mmdb@$version" \
	"@ip-location-db/asn@$version" >/dev/null)
mkdir "$tmp/country" "$tmp/asn"
tar -xzf "$tmp"/ip-location-db-geo-whois-asn-country-mmdb-"$version".tgz -C "$tmp/country"
tar -xzf "$tmp"/ip-location-db-asn-"$version".tgz -C "$tmp/asn"

mv "$tmp/asn/package/DBIP-LICENSE" "$dir/asn-DBIP-LICENSE"
mv "$tmp/asn/package/ROUTEVIEWS-LICENSE" "$dir/asn-ROUTEVIEWS-LICENSE"
mv "$tmp/asn/package/NRO_LICENSE" "$dir/asn-NRO-LICENSE"
mv "$tmp/asn/package/asn-ipv4.csv" "$dir/asn-ipv4.csv"
mv "$tmp/asn/package/asn-ipv6.csv" "$dir/asn-ipv6.csv"
mv "$tmp/country/package/geo-whois-asn-country.mmdb" "$dir/geo-whois-asn-country.mmdb"
rm -rf "$tmp"
log "done: $(du -sh "$dir" | cut -f1) in $dir"
