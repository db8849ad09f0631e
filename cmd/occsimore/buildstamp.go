package main

import "github.com/occsimore/occsimore"

// version, commit and date are stamped by scripts/build with
// -ldflags "-X main.version=… -X main.commit=… -X main.date=…": a build from a source archive
// or with -buildvcs=false has no VCS settings in its build info.
var (
	version string
	commit  string
	date    string // RFC 3339, UTC
)

// stamp fills what the build stamped into bi; a stamped version or commit
// wins over the build info's.
func stamp(bi *occsimore.BuildInfo) {
	if version != "" {
		bi.Version = version
	}
	if commit != "" {
		bi.Commit = commit
	}
	bi.Date = date
}
